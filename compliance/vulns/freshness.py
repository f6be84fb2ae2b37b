"""How old the vulnerability data behind a release decision is.

A scan is as fresh as the moment it ran. A report that does not record its scan time
but dates its database is bounded by that date (the scan ran after the database was
built), so the database time stands in for it. A report with neither is undated: its
age cannot be shown, and an undated scan is stale unless the organisation accepts it.
Known-exploited catalogues are judged by their release date.

A time later than the assessment proves nothing about freshness: it is a wrong date (a
report dated 2099), or an assessment clock older than the data (a ``SOURCE_DATE_EPOCH``
of 1980, as inside a Nix build). Either way the age cannot be shown, so the report is
stale. Only a small difference between the scanning host's clock and the gate's is
tolerated, and counts as age zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from compliance.models.vulns import ReportInfo, ReportRole
from compliance.util.clock import isoformat

# How far a report's time may lie after the assessment's and still be a clock difference
# between two hosts rather than a date that cannot be right.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class FreshnessLimits:
    """How old a scan and its vulnerability database may be before the data stops counting as fresh."""
    max_scan_age_hours: float
    max_database_age_hours: float
    max_known_exploited_age_hours: float
    allow_undated: bool = False


@dataclass(frozen=True)
class ReportAge:
    """How old one report and its database are at the assessment time, and what makes them stale."""
    report: ReportInfo
    dated_by: str | None  # "scan time" | "database time" | "release date" | None (undated)
    age_hours: float | None
    database_age_hours: float | None
    problems: tuple[str, ...]

    def as_observed(self) -> dict[str, object]:
        return {
            "source": self.report.source,
            "format": self.report.format,
            "scanned_at": isoformat(self.report.scanned_at) if self.report.scanned_at else None,
            "database_updated": isoformat(self.report.database_updated) if self.report.database_updated else None,
            "dated_by": self.dated_by,
            "age_hours": None if self.age_hours is None else round(self.age_hours, 1),
            "problems": list(self.problems),
        }


def _hours(now: datetime, then: datetime) -> float:
    """Age at ``now``; a time within the clock skew after it is age zero."""
    return max(0.0, (now - then).total_seconds() / 3600)


def _future(now: datetime, then: datetime | None, what: str) -> list[str]:
    if then is None or then - now <= CLOCK_SKEW:
        return []
    return [f"{what} {isoformat(then)} is after the assessment time {isoformat(now)}: its age cannot be shown"]


def report_age(report: ReportInfo, now: datetime, limits: FreshnessLimits) -> ReportAge:
    """A report's age and database age at ``now``, with the problems that make it stale (a future date included)."""
    database_what = "release date" if report.role is ReportRole.KNOWN_EXPLOITED else "database time"
    problems = _future(now, report.scanned_at, "scan time") + _future(now, report.database_updated, database_what)
    database_age = _hours(now, report.database_updated) if report.database_updated else None
    if report.role is ReportRole.KNOWN_EXPLOITED:
        if database_age is None:
            problems.append("the catalogue has no release date")
        elif database_age > limits.max_known_exploited_age_hours:
            problems.append(f"catalogue released {database_age:.0f} h ago (at most {limits.max_known_exploited_age_hours:g} h)")
        return ReportAge(report, "release date" if database_age is not None else None, database_age, database_age, tuple(problems))
    if report.scanned_at is not None:
        dated_by, age = "scan time", _hours(now, report.scanned_at)
    elif database_age is not None:
        dated_by, age = "database time", database_age
    else:
        dated_by, age = None, None
    if age is None:
        if not limits.allow_undated:
            problems.append("records neither a scan time nor a database time")
    elif age > limits.max_scan_age_hours:
        problems.append(f"scanned {age:.0f} h ago (at most {limits.max_scan_age_hours:g} h), by its {dated_by}")
    if database_age is not None and database_age > limits.max_database_age_hours:
        problems.append(f"vulnerability database {database_age:.0f} h old (at most {limits.max_database_age_hours:g} h)")
    return ReportAge(report, dated_by, age, database_age, tuple(problems))


def data_ages(reports: tuple[ReportInfo, ...], now: datetime, limits: FreshnessLimits) -> list[ReportAge]:
    """Ages of the reports whose age matters: scans and known-exploited catalogues
    (VEX documents and exception files are statements, not vulnerability data)."""
    judged = (ReportRole.SCAN, ReportRole.KNOWN_EXPLOITED)
    return [report_age(r, now, limits) for r in reports if r.role in judged]
