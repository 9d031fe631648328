"""`atp check-api`: is the Census API still what the pipeline expects?

A handful of small requests, each checked the way the pipeline would check it, each reported as
one row that says what is wrong:
- each endpoint's `variables.json` (no key needed) still lists every variable the pipeline
  requests, and `time`;
- one keyed request per flow for the newest month due (`time=YYYY-MM`): it answers, its header
  has every requested column, its values are whole dollars (empty or null cells count as
  missing), it carries the total markers (a '-' or '' CTY_CODE row, a '-' or '' HITECH row), each
  partner's total reconciles with 00 + 01..10, and it holds a plausible number of countries;
- with product detail on: each `hs` endpoint's `variables.json` lists what the product requests
  name, and each flow's ATP code list for the year of that month is there and is a list.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from ingest.atp_code_lists import AtpCodeListError, fetch_code_list, list_url
from ingest.census_format import CensusTable, missing_columns, normalize_total, table_from_json
from ingest.client import CensusClient, RetryPolicy
from ingest.datasets import FLOWS, HITECH, HS, CensusDataset
from ingest.errors import CensusError
from ingest.releases import newest_month_due
from ingest.settings import KEY_HELP

# The API lists about 230 countries; far fewer means it changed its codes or dropped partners.
MIN_COUNTRIES = 100
# total = 00 + 01..10 per partner, within the larger of $1,000 and 0.1% of the total.
TOLERANCE_USD = 1_000
TOLERANCE_SHARE = 0.001
NON_ATP = "00"
ATP_GROUPS = tuple(f"{n:02d}" for n in range(1, 11))
_COUNTRY = re.compile(r"[1-9][0-9]{3}")
# A command someone waits for: fewer and shorter retries than a nightly run's.
CHECK_POLICY = RetryPolicy(max_attempts=3, max_total_seconds=60.0, read_timeout=60.0)


@dataclass(frozen=True)
class CheckRow:
    check: str  # e.g. "imports/hitech variables", "imports 2026-03 reconciliation"
    ok: bool
    detail: str  # one line: what was found, or what is wrong


def check_api(
    base_url: str,
    api_key: str | None,
    today: date,
    lag_days: int,
    client: CensusClient | None = None,
    *,
    min_countries: int = MIN_COUNTRIES,
    atp_codes_base_url: str | None = None,
) -> list[CheckRow]:
    """Check the API at `base_url` (or through `client`, which then decides the URL, key and
    retries) and return one row per check, variables first, then each flow's month. The month
    is the newest one due on `today` (`lag_days` after its end). With `atp_codes_base_url`
    (product detail), also the hs endpoints' variables and that year's ATP code lists."""
    keyed = client is not None or bool(api_key)
    client = client or CensusClient(base_url, api_key or "", policy=CHECK_POLICY)
    month = newest_month_due(today, lag_days)
    datasets = (HITECH, HS) if atp_codes_base_url else (HITECH,)
    rows = [_check_variables(client, flow, dataset) for dataset in datasets for flow in FLOWS]
    if atp_codes_base_url:
        year = int(month[:4])
        rows += [_check_code_list(client, atp_codes_base_url, flow, year) for flow in FLOWS]
    for flow in FLOWS:
        if not keyed:
            rows.append(
                CheckRow(
                    f"{flow} {month} request",
                    False,
                    f"not asked: CENSUS_API_KEY is not set, and data requests need a key. {KEY_HELP}",
                )
            )
            continue
        rows += _check_month(client, flow, month, lag_days, min_countries)
    return rows


def _check_variables(client: CensusClient, flow: str, dataset: CensusDataset) -> CheckRow:
    endpoint = dataset.endpoint(flow)
    check = f"{endpoint} variables"
    try:
        listed = client.fetch_variables(flow, dataset)
    except CensusError as exc:
        return CheckRow(check, False, str(exc))
    wanted = [*dataset.columns(flow), *dataset.pinned]
    gone = [name for name in wanted if name not in listed]
    if gone:
        return CheckRow(
            check,
            False,
            f"{endpoint} no longer lists {', '.join(gone)}, which the pipeline requests: its "
            "requests would fail with HTTP 400. Check the endpoint's variables.json and update "
            "ingest/datasets.py.",
        )
    return CheckRow(check, True, f"{endpoint} lists {', '.join(wanted)}")


def _check_code_list(client: CensusClient, base_url: str, flow: str, year: int) -> CheckRow:
    check = f"ATP code list {flow} {year}"
    url = list_url(base_url, flow, year)
    skipped = f"{flow} {year} product detail would be skipped"
    try:
        found = fetch_code_list(base_url, flow, year, client)
    except AtpCodeListError as exc:
        return CheckRow(check, False, f"{exc}: {skipped}")
    except CensusError as exc:
        return CheckRow(check, False, str(exc))
    if found is None:
        return CheckRow(check, False, f"not found: {url} answered HTTP 404: {skipped}")
    groups = len({code.group for code in found.codes})
    return CheckRow(check, True, f"{len(found.codes)} codes in {groups} ATP groups at {url}")


def _check_month(
    client: CensusClient, flow: str, month: str, lag_days: int, min_countries: int
) -> list[CheckRow]:
    where = f"{flow} {month}"
    try:
        answer = client.fetch_month(flow, month)
    except CensusError as exc:
        return [CheckRow(f"{where} request", False, str(exc))]
    if answer.body is None:
        return [
            CheckRow(
                f"{where} request",
                False,
                f"{where}: HTTP 204, no data for the newest month due ({lag_days} days after its "
                "end): the release may have slipped. Check the Census release schedule, or run "
                "the check again after the next release.",
            )
        ]
    rows = [CheckRow(f"{where} request", True, f"HTTP 200 after {answer.attempts} attempt(s)")]
    data = answer.data
    if not isinstance(data, list) or not data or not isinstance(data[0], list):
        rows.append(CheckRow(f"{where} header", False, f"{where}: not a JSON array of rows"))
        return rows
    header = data[0]
    lacking = missing_columns(header, flow)
    if lacking:
        rows.append(
            CheckRow(
                f"{where} header",
                False,
                f"{where}: the header lacks {', '.join(lacking)} "
                f"(header: {', '.join(map(str, header))})",
            )
        )
        return rows
    rows.append(CheckRow(f"{where} header", True, f"has {', '.join(HITECH.columns(flow))}"))
    try:
        table = table_from_json(data, flow, int(month[:4]))
    except CensusError as exc:
        rows.append(CheckRow(f"{where} values", False, str(exc)))
        return rows
    rows.append(_check_values(table, where, month))
    rows.append(_check_totals(table, where))
    rows.append(_check_reconciliation(table, where))
    rows.append(_check_countries(table, where, min_countries))
    return rows


def _check_values(table: CensusTable, where: str, month: str) -> CheckRow:
    check = f"{where} values"
    if table.months != [month]:
        return CheckRow(
            check, False, f"{where}: the answer holds the month(s) {', '.join(table.months)}"
        )
    detail = f"{len(table.rows):,} rows, every value a whole number of dollars"
    if table.missing_values:
        detail += f" or missing ({table.missing_values:,} empty or null)"
    return CheckRow(check, True, detail)


def _check_totals(table: CensusTable, where: str) -> CheckRow:
    countries_total = any(normalize_total(row[0]) == "-" for row in table.rows)
    commodities_total = any(normalize_total(row[2]) == "-" for row in table.rows)
    lacking = []
    if not countries_total:
        lacking.append("no U.S. total row (CTY_CODE '-' or '')")
    if not commodities_total:
        lacking.append("no all-commodities rows (HITECH '-' or '')")
    if lacking:
        return CheckRow(
            f"{where} totals",
            False,
            f"{where}: {' and '.join(lacking)}: the API may have changed its total markers",
        )
    return CheckRow(
        f"{where} totals",
        True,
        "U.S. total (CTY_CODE '-' or '') and all-commodities (HITECH '-' or '') rows present",
    )


def _check_reconciliation(table: CensusTable, where: str) -> CheckRow:
    check = f"{where} reconciliation"
    values: dict[str, dict[str, str | None]] = defaultdict(dict)
    names: dict[str, str] = {}
    for code, name, hitech, _, value, _ in table.rows:
        partner = normalize_total(code)
        values[partner][normalize_total(hitech)] = value
        names.setdefault(partner, name)
    off: list[str] = []
    unknown = 0
    for partner, by_code in values.items():
        cells = [by_code.get("-"), *(by_code.get(c, "0") for c in (NON_ATP, *ATP_GROUPS))]
        if "-" in by_code and None in cells:
            unknown += 1  # a missing value: nothing to check against
            continue
        label = f"{partner} {names[partner]}".strip()
        if "-" not in by_code:
            off.append(f"{label}: no all-commodities row")
            continue
        total, parts = int(cells[0]), sum(int(v) for v in cells[1:])
        if abs(total - parts) > max(TOLERANCE_USD, total * TOLERANCE_SHARE):
            off.append(f"{label}: total {total:,} but 00 + 01..10 = {parts:,}")
    checked = len(values) - unknown
    rule = "total = 00 + 01..10 within max($1,000, 0.1%)"
    if off:
        return CheckRow(
            check,
            False,
            f"{where}: {len(off)} of {checked} partner(s) break {rule}, e.g. {'; '.join(off[:3])}",
        )
    detail = f"{checked} partner(s): {rule}"
    if unknown:
        detail += f"; {unknown} not checked (missing values)"
    return CheckRow(check, True, detail)


def _check_countries(table: CensusTable, where: str, min_countries: int) -> CheckRow:
    countries = {row[0].strip() for row in table.rows if _COUNTRY.fullmatch(row[0].strip())}
    if len(countries) < min_countries:
        return CheckRow(
            f"{where} countries",
            False,
            f"{where}: only {len(countries)} countries (4-digit codes not starting with 0), "
            f"expected at least {min_countries}: the API may have changed its partner codes or "
            "dropped partners",
        )
    return CheckRow(
        f"{where} countries",
        True,
        f"{len(countries)} countries (4-digit codes not starting with 0)",
    )
