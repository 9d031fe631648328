"""The ATP code lists: which 10-digit commodity codes make up each of the ten ATP groups, by year.

Census publishes one list per flow and year as fixed-width text under CENSUS_ATP_CODES_BASE_URL:
`impatpYY.txt` for imports and, by the same pattern, `expatpYY.txt` for exports (a guess: the
reference, §16, found no export list's name). The layout is the one a public parser reads the
import list with (§16): no header; columns 1-2 the ATP group (01..10), 4-13 the 10-digit code,
15 onward the description. Encoding, cadence and the export list are not confirmed.

A list is landed like an API answer, through landing.py's helpers (see `land_code_list`):
`<ATP_LANDING_DIR>/atp_codes/<flow>/<year>/<flow>_<year>_<fetched-at>.txt` and a manifest beside
it; a list whose content is unchanged gets a manifest naming the file already there, no new file.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import orjson

from ingest.client import CensusClient
from ingest.datasets import check_flow
from ingest.errors import CensusResponseError
from ingest.landing import LandedFile, land_body, landing_stamp, newest_landed

LANDING_FOLDER = "atp_codes"  # beside the hitech flows' folders in the landing zone
ATP_GROUPS = tuple(f"{n:02d}" for n in range(1, 11))
_FILE_PREFIX = {"imports": "imp", "exports": "exp"}
# Column 3 and column 14 are the blanks between the fields; the description may be empty.
_LINE = re.compile(r"(\d{2}) (\d{10})(?: (.*))?")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_SHAPE = "'GG CCCCCCCCCC description'"


class AtpCodeListError(CensusResponseError):
    """What was fetched as an ATP code list is not one (an HTML page, an empty body, a line of
    another shape): the caller skips that flow's product detail with a warning."""


@dataclass(frozen=True)
class AtpCode:
    group: str  # the ATP group, "01".."10" (the hitech endpoints' HITECH code)
    code: str  # the 10-digit commodity code
    description: str


@dataclass(frozen=True)
class CodeList:
    """One fetched list, parsed."""

    flow: str
    year: int
    url: str
    fetched_at: datetime  # UTC
    attempts: int
    body: bytes
    codes: tuple[AtpCode, ...]

    @cached_property
    def content_hash(self) -> str:
        return content_hash(self.codes)


def list_url(base_url: str, flow: str, year: int) -> str:
    """The list's URL: `<base>/impatpYY.txt` or `<base>/expatpYY.txt`, YY the year's last two digits."""
    check_flow(flow)
    return f"{base_url.rstrip('/')}/{_FILE_PREFIX[flow]}atp{year % 100:02d}.txt"


def parse_code_list(body: bytes, source: str) -> tuple[AtpCode, ...]:
    """The list's codes, in the file's order, or AtpCodeListError (one line naming `source`)."""
    text = _decode(body)
    problem = f"{source} is not an ATP code list"
    if not text.strip():
        raise AtpCodeListError(f"{problem} (the body is empty)")
    codes: list[AtpCode] = []
    first_line: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.rstrip()
        if not line:
            continue  # blank lines (a trailing one, say) carry nothing
        if line.lstrip().startswith("<"):
            raise AtpCodeListError(f"{problem} (line {number} is HTML): {_page_summary(text)}")
        match = _LINE.fullmatch(line)
        if not match:
            raise AtpCodeListError(f"{problem} (line {number} is not {_SHAPE}): {line[:80]!r}")
        group, code, description = match[1], match[2], (match[3] or "").strip()
        if group not in ATP_GROUPS:
            raise AtpCodeListError(
                f"{problem} (line {number}: ATP group {group} is not 01 to 10): {line[:80]!r}"
            )
        if code in first_line:  # a join on the code would count its trade twice
            raise AtpCodeListError(
                f"{problem} (line {number} repeats code {code} of line {first_line[code]})"
            )
        first_line[code] = number
        codes.append(AtpCode(group, code, description))
    return tuple(codes)


def content_hash(codes: tuple[AtpCode, ...]) -> str:
    """sha256 of the codes sorted by code: the same list in another order or with other line
    ends hashes the same; a changed group, code or description does not."""
    rows = sorted([c.code, c.group, c.description] for c in codes)
    return hashlib.sha256(orjson.dumps(rows)).hexdigest()


def fetch_code_list(base_url: str, flow: str, year: int, client: CensusClient) -> CodeList | None:
    """Fetch and parse one list (base: the setting `atp_codes_base_url`) through the run's
    client (its retries and budget; no key is sent). None: HTTP 404, no such list.
    AtpCodeListError: the answer is not a list."""
    url = list_url(base_url, flow, year)
    answer = client.fetch_file(url, f"ATP code list {flow} {year}")
    if answer.body is None:
        return None
    return CodeList(
        flow=flow,
        year=year,
        url=url,
        fetched_at=datetime.now(UTC),
        attempts=answer.attempts,
        body=answer.body,
        codes=parse_code_list(answer.body, url),
    )


def land_code_list(landing_dir: Path, code_list: CodeList) -> LandedFile:
    """Land a list's bytes and manifest, as `landing.land` does an API answer."""
    stamp = landing_stamp(code_list.fetched_at)
    return land_body(
        landing_dir / LANDING_FOLDER,
        code_list.flow,
        code_list.year,
        f"{code_list.flow}_{code_list.year}_{stamp}.txt",
        code_list.body,
        code_list.content_hash,
        {
            "source": "atp_code_list",
            "flow": code_list.flow,
            "year": code_list.year,
            "request": code_list.url,
            "fetched_at": code_list.fetched_at.isoformat(),
            "rows": len(code_list.codes),
            "codes_per_group": dict(sorted(Counter(c.group for c in code_list.codes).items())),
        },
    )


def landed_code_list(landing_dir: Path, flow: str, year: int) -> tuple[AtpCode, ...] | None:
    """The newest landed list of a flow-year, checked against its manifest; None if none."""
    landed = newest_landed(landing_dir / LANDING_FOLDER, flow, year)
    if landed is None:
        return None
    return parse_code_list(landed.read_checked(), str(landed.path))


def _decode(body: bytes) -> str:
    # The lists' encoding is not confirmed: UTF-8 (a BOM dropped), else Windows-1252.
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return body.decode("cp1252", errors="replace")


def _page_summary(page: str, limit: int = 120) -> str:
    """An HTML page by its title, else its first words: a one-line hint of what came instead."""
    title = _TITLE.search(page)
    if title and title.group(1).strip():
        return "page titled " + repr(" ".join(html.unescape(title.group(1)).split())[:limit])
    return repr(" ".join(html.unescape(_TAG.sub(" ", page)).split())[:limit])
