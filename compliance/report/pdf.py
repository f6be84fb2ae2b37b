"""PDF rendering of the report HTML with WeasyPrint, byte for byte reproducible.

Same HTML and same ``SOURCE_DATE_EPOCH`` give the same bytes: the document identifier is
derived from the content, the creation and modification dates come from the one clock of
the tool, and the producer names this tool, not the layout engine. The embedded font
subsets are made by HarfBuzz (deterministic), or by fontTools where HarfBuzz's subsetter is
missing, which dates them from ``SOURCE_DATE_EPOCH`` too. Rendering never fetches
anything: a report that tried to load a URL would depend on the network.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any, NoReturn

from compliance import TOOL_NAME, __version__
from compliance.errors import PdfError
from compliance.util import clock

# What WeasyPrint loads at import, as Debian names it: without them there is no PDF.
SYSTEM_LIBRARIES = ("the system libraries Pango, HarfBuzz and fonts: on Debian or Ubuntu, "
                    "apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core")


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> NoReturn:
    raise ValueError(f"the report does not load external resources ({url})")


def pdf_date(moment: datetime) -> str:
    """``D:YYYYMMDDHHmmSSZ``, the PDF date format, in UTC."""
    return moment.astimezone(UTC).strftime("D:%Y%m%d%H%M%SZ")


def html_to_pdf(html: str, *, producer: str | None = None, created: datetime | None = None) -> bytes:
    try:
        import pydyf  # type: ignore[import-untyped]  # no stubs; a dependency of weasyprint
        import weasyprint
    except ImportError as exc:  # pragma: no cover - the wheel depends on weasyprint
        raise PdfError(f"PDF rendering needs WeasyPrint: {exc}") from None
    except OSError as exc:  # WeasyPrint loads Pango and HarfBuzz with ctypes at import
        raise PdfError(f"PDF rendering needs {SYSTEM_LIBRARIES} ({' '.join(str(exc).split())})") from None
    moment = created or clock.now()
    stamp = pydyf.String(pdf_date(moment))
    name = pydyf.String(producer or f"{TOOL_NAME} {__version__}")

    def finish(_document: Any, pdf: Any) -> None:
        pdf.info["Producer"] = name
        pdf.info["CreationDate"] = stamp
        pdf.info["ModDate"] = stamp

    identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii")
    try:
        document = weasyprint.HTML(string=html, url_fetcher=_no_fetch)
        pdf = document.write_pdf(pdf_identifier=identifier, finisher=finish)
    except Exception as exc:
        raise PdfError(f"cannot lay out the report as PDF: {type(exc).__name__}: {exc}") from None
    if not isinstance(pdf, bytes):  # pragma: no cover - write_pdf without a target returns bytes
        raise PdfError("WeasyPrint returned no PDF")
    return pdf
