"""A small NVD JSON 1.1 feed served on 127.0.0.1, for running vulnix for real.

vulnix 1.10.1 downloads ``nvdcve-1.1-<year>.json.gz`` for the current year and the five
before it (by the machine's date), and ``nvdcve-1.1-modified.json.gz`` on later updates;
a missing file aborts it, so every year around today is served (empty but for the year
that carries the test's CVEs).
"""

from __future__ import annotations

import datetime
import gzip
import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def vulnix_binary() -> str | None:
    """The vulnix that scripts/install puts in .venv-tools, else one on PATH."""
    local = ROOT / ".venv-tools" / "vulnix" / "bin" / "vulnix"
    return str(local) if local.is_file() else shutil.which("vulnix")


def cve(cve_id: str, product: str, *, vendor: str | None = None, version: str = "*", score: float | None = None,
        start_including: str | None = None, end_excluding: str | None = None, description: str = "test advisory") -> dict[str, Any]:
    """One NVD 1.1 ``CVE_Items`` entry affecting ``product`` (a CPE 2.3 match)."""
    match: dict[str, Any] = {"vulnerable": True, "cpe23Uri": f"cpe:2.3:a:{vendor or product}:{product}:{version}:*:*:*:*:*:*:*"}
    if start_including:
        match["versionStartIncluding"] = start_including
    if end_excluding:
        match["versionEndExcluding"] = end_excluding
    impact = {"baseMetricV3": {"cvssV3": {"baseScore": score}}} if score is not None else {}
    return {
        "cve": {"CVE_data_meta": {"ID": cve_id}, "description": {"description_data": [{"lang": "en", "value": description}]}},
        "configurations": {"nodes": [{"operator": "OR", "cpe_match": [match]}]},
        "impact": impact,
    }


def write_feed(directory: Path, items: list[dict[str, Any]]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    year = datetime.date.today().year
    names = [str(y) for y in range(year - 7, year + 2)] + ["modified"]
    for name in names:
        payload = {"CVE_Items": items if name == str(year - 1) else []}
        (directory / f"nvdcve-1.1-{name}.json.gz").write_bytes(gzip.compress(json.dumps(payload).encode()))


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on an ephemeral loopback port; yields the mirror URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
