"""Offline fake of the Census International Trade API `hitech` and `hs` endpoints.

A real HTTP server on 127.0.0.1 that answers `GET .../data/timeseries/intltrade/{imports|exports}/hitech`
in the format of /work/shared/reference/census-intltrade-api.md (sections 2, 4-6, 8), serving any
dataset object with `rows(flow, year) -> list[dict] | None` (see fixtures.py), and able to inject
scripted faults so the real client's retry/validation code can be exercised. It also serves each
endpoint's metadata, `.../hitech/variables.json`, which needs no key (as on the real API since
2026-05-27). The `hs` endpoints (fake_census/products.py) serve the same trade by 10-digit
commodity, for the codes on the ATP lists the fake serves (fake_census/code_lists.py).
"""

from __future__ import annotations

import collections
import email.utils
import json
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from . import products
from .code_lists import LISTS_PATH, CodeLists

API_ROOT = "/data/timeseries/intltrade"
KEY_SIGNUP_PATH = "/data/key_signup.html"
INVALID_KEY_PATH = "/data/invalid_key.html"
MAINTENANCE_PATH = "/data/maintenance.html"
KEY_ERROR_HEADER = "X-DataWebAPI-KeyError"

COMMON_VARS = ("CTY_CODE", "CTY_NAME", "HITECH", "HITECH_DESC", "SUMMARY_LVL", "YEAR", "MONTH")
FLOW_VARS = {
    "imports": COMMON_VARS + ("GEN_VAL_MO", "GEN_VAL_YR", "CON_VAL_MO", "CON_VAL_YR"),
    "exports": COMMON_VARS + ("ALL_VAL_MO", "ALL_VAL_YR", "DF"),
}
VALUE_VARS = frozenset(
    {"GEN_VAL_MO", "GEN_VAL_YR", "CON_VAL_MO", "CON_VAL_YR", "ALL_VAL_MO", "ALL_VAL_YR"}
)
# variables.json entries: name -> (label, predicateType). The shape is the live API's; the labels
# are this fake's wording (the reference has none confirmed for the hitech endpoints).
VARIABLE_INFO = {
    "CTY_CODE": ("Country Code", "string"),
    "CTY_NAME": ("Country Name", "string"),
    "HITECH": ("Advanced Technology Product Code", "string"),
    "HITECH_DESC": ("Advanced Technology Product Description", "string"),
    "SUMMARY_LVL": ("Summary Level: DET (detail) or CGP (country grouping)", "string"),
    "YEAR": ("Year", "int"),
    "MONTH": ("Month", "string"),
    "GEN_VAL_MO": ("General Imports, Total Value", "int"),
    "GEN_VAL_YR": ("General Imports, Year-to-Date Total Value", "int"),
    "CON_VAL_MO": ("Imports for Consumption, Total Value", "int"),
    "CON_VAL_YR": ("Imports for Consumption, Year-to-Date Total Value", "int"),
    "ALL_VAL_MO": ("Total Exports Value", "int"),
    "ALL_VAL_YR": ("Total Exports Value, Year-to-Date", "int"),
    "DF": ("Domestic or Foreign Indicator", "string"),
}
TOTAL_MARKERS = ("-", "")  # current and older spelling of "total" in CTY_CODE / HITECH
SOURCES = ("hitech", "hs")  # the datasets served: ATP groups, and 10-digit product detail

ERROR_500_TEXT = (
    "There was an error while running your query.  We've logged the error and "
    "we'll correct it ASAP.  Sorry for the inconvenience."
)
INVALID_KEY_HTML = (
    "<html><head><title>Invalid Key</title></head><body><h1>Invalid Key</h1>"
    "<p>A valid key must be included with each data API request. "
    "The key sent with this request was not recognised.</p></body></html>"
)
MISSING_KEY_HTML = (
    "<html><head><title>Missing Key</title></head><body><h1>Missing Key</h1>"
    "<p>Data API requests now need a key. Request one on the key signup page.</p></body></html>"
)
# A proxy's or the API's own maintenance page: no word about the key.
MAINTENANCE_HTML = (
    "<html><head><title>Service Unavailable - Maintenance</title></head><body>"
    "<h1>Scheduled maintenance</h1><p>The data service is down for scheduled maintenance. "
    "Please try again later.</p></body></html>"
)
# An error page whose only sign of a key problem is the X-DataWebAPI-KeyError header.
KEY_ERROR_HTML = (
    "<html><head><title>Error</title></head><body><h1>Error</h1>"
    "<p>Your request could not be completed.</p></body></html>"
)
NOT_FOUND_HTML = (
    "<html><head><title>404 Not Found</title></head><body><h1>HTTP Status 404 - "
    "Not Found</h1><p>The requested resource is not available.</p></body></html>"
)

# Faults that replace the answer outright vs. faults that alter the normal 200 answer.
STATUS_FAULTS = frozenset(
    {
        "429",
        "429-date",
        "500",
        "502",
        "503",
        "504",
        "html",  # 200 + the "Invalid Key" page (the word key, no header)
        "html_key_error",  # 200 + an error page marked only by the X-DataWebAPI-KeyError header
        "html_maintenance",  # 200 + a maintenance page, titled "Service Unavailable - Maintenance"
        "redirect",  # 302 to the key sign-up page, with the X-DataWebAPI-KeyError header
        "redirect_maintenance",  # 302 to a maintenance page (the request echoed in its query)
        "redirect_moved",  # 301: the API moved
        "204",
        "400",
        "401",  # a bare 401 (no key header, no page about the key): an API gateway's refusal
        "403",  # likewise a bare 403
    }
)
BODY_FAULTS = frozenset(
    {
        "drop",
        "malformed_json",
        "header_only",
        "missing_column",
        "bad_value",
        "bad_value_decimal",
        "duplicate_row",
    }
)
FAULTS = STATUS_FAULTS | BODY_FAULTS | {"timeout"}

_MONTH_RE = re.compile(r"(\d{4})-(\d{2})")


class BadRequest(Exception):
    """A 400 answer; the message is the one-line text/plain body."""


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: list[tuple[str, str]]  # URL-decoded, in order, including `key`
    fault: str | None = None  # the fault that answered it, if any
    status: int | None = None  # status sent (None if the connection was dropped before)
    answered: bool = False  # the answer started (no longer counted as in flight)
    at: float = field(default_factory=time.monotonic)

    def param(self, name: str) -> str | None:
        """First value of query parameter `name`."""
        return next((v for n, v in self.query if n == name), None)


@dataclass
class _Reply:
    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


def _text(status: int, text: str) -> _Reply:
    return _Reply(status, text.encode(), "text/plain;charset=utf-8")


def _html(status: int, html: str, headers=()) -> _Reply:
    return _Reply(status, html.encode(), "text/html;charset=utf-8", tuple(headers))


# ---------------------------------------------------------------------------------------------
# Query evaluation


def parse_time(text: str) -> tuple[tuple[int, int], tuple[int, int] | None]:
    """`YYYY-MM`, `YYYY`, `from YYYY-MM` or `from YYYY-MM to YYYY-MM` -> (start, end or None)."""
    parts = text.split()

    def month(s):
        m = _MONTH_RE.fullmatch(s)
        if not m or not 1 <= int(m[2]) <= 12:
            raise BadRequest(f"error: invalid 'time' argument '{text}'")
        return int(m[1]), int(m[2])

    if len(parts) == 1 and re.fullmatch(r"\d{4}", parts[0]):
        return (int(parts[0]), 1), (int(parts[0]), 12)
    if len(parts) == 1:
        return month(parts[0]), month(parts[0])
    if len(parts) == 2 and parts[0] == "from":
        return month(parts[1]), None
    if len(parts) == 4 and parts[0] == "from" and parts[2] == "to":
        start, end = month(parts[1]), month(parts[3])
        if start <= end:
            return start, end
    raise BadRequest(f"error: invalid 'time' argument '{text}'")


OPEN_END_YEARS = 60  # `from YYYY-MM` scans this many years ahead for released data


def _ranges(predicates: dict[str, list[str]]) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Month ranges selected by `time` (or the YEAR alternative); open ends become far ranges."""
    if "time" in predicates:
        out = []
        for value in predicates["time"]:
            start, end = parse_time(value)
            out.append((start, end or (start[0] + OPEN_END_YEARS, 12)))
        return out
    if "YEAR" in predicates:
        if not all(re.fullmatch(r"\d{4}", y) for y in predicates["YEAR"]):
            raise BadRequest("error: invalid 'YEAR' argument")
        return [((int(y), 1), (int(y), 12)) for y in predicates["YEAR"]]
    raise BadRequest("error: missing 'time' argument")


class _Wanted:
    """One predicate's values, OR-ed: exact values (a set: a query plan names hundreds of codes),
    "*" or prefix wildcards ("8471*"), and the total markers, which stand for each other."""

    def __init__(self, wanted: list[str]):
        self.any = "*" in wanted
        self.exact = set(wanted)
        if self.exact & set(TOTAL_MARKERS):
            self.exact |= set(TOTAL_MARKERS)
        self.prefixes = tuple(w[:-1] for w in wanted if w.endswith("*") and w != "*")

    def __call__(self, cell: str) -> bool:
        return (
            self.any
            or cell in self.exact
            or (bool(self.prefixes) and cell.startswith(self.prefixes))
        )


def _summary_lvl(code: str) -> str:
    return "CGP" if code.startswith("00") or "X" in code else "DET"  # groupings vs DET/total


def _year_records(dataset, flow: str, year: int, columns) -> list[tuple[int, dict[str, str]]]:
    """Rows of one flow-year as (month, {variable: string}) for the variables in `columns`.

    `_YR` values are calendar year-to-date sums of `_MO` per (CTY_CODE, HITECH). Only the
    requested value cells are formatted, which keeps a 36k-row year fast.
    """
    prefix = "GEN" if flow == "imports" else "ALL"
    wanted = [
        (f"{prefix}_VAL_MO", 0),
        (f"{prefix}_VAL_YR", 1),
        ("CON_VAL_MO", 2),
        ("CON_VAL_YR", 3),
    ]
    wanted = [(name, i) for name, i in wanted if name in columns and name in FLOW_VARS[flow]]
    ytd: dict[tuple, list[int]] = {}
    out = []
    rows = dataset.rows(flow, year) or []
    for r in sorted(rows, key=lambda r: r["month"]):  # stable: keeps the dataset's row order
        value, con, month = r["value"], r.get("con_value", r["value"]), r["month"]
        acc = ytd.setdefault((r["CTY_CODE"], r["HITECH"]), [0, 0])
        acc[0] += value
        acc[1] += con
        rec = {
            "CTY_CODE": r["CTY_CODE"],
            "CTY_NAME": r["CTY_NAME"],
            "HITECH": r["HITECH"],
            "HITECH_DESC": r["HITECH_DESC"],
            "SUMMARY_LVL": _summary_lvl(r["CTY_CODE"]),
            "YEAR": str(year),
            "MONTH": f"{month:02d}",
            "time": f"{year}-{month:02d}",
            "DF": "-",  # exports: DF not split, each row is the domestic + foreign total
        }
        numbers = (value, acc[0], con, acc[1])
        for name, i in wanted:
            rec[name] = str(numbers[i])
        out.append((month, rec))
    return out


def known_variables(flow: str, hidden=frozenset(), source: str = "hitech") -> tuple[str, ...]:
    """The variables the endpoint has (as listed in its variables.json), less `hidden`."""
    listed = products.variables(flow) if source == "hs" else FLOW_VARS[flow]
    return tuple(v for v in listed if v not in hidden)


def variables_json(flow: str, hidden=frozenset(), source: str = "hitech") -> dict:
    """The endpoint's variables.json, shaped like the live API's: {"variables": {name: {...}}}."""
    out = {}
    info = {**VARIABLE_INFO, **products.variable_info(flow)}
    concept = "Harmonized System" if source == "hs" else "Advanced Technology Products"
    for name in known_variables(flow, hidden, source):
        label, predicate_type = info[name]
        out[name] = {
            "label": label,
            "concept": f"International Trade: {concept}",
            "predicateType": predicate_type,
            "group": "N/A",
            "limit": 0,
        }
    out["time"] = {
        "label": "ISO-8601 Date/Time value",
        "concept": "Census API Date/Time Specification",
        "required": "true",
        "predicateType": "datetime",
        "group": "N/A",
        "limit": 0,
        "predicateOnly": True,
    }
    return {"variables": out}


def build_table(
    dataset,
    flow: str,
    query: list[tuple[str, str]],
    hidden=frozenset(),
    source: str = "hitech",
    code_lists: CodeLists | None = None,
    product_density: float = 1.0,
    memo: dict | None = None,
) -> tuple[list[list[str]], int]:
    """Evaluate a data query on the `source` endpoint ("hitech" or "hs", whose rows come from
    `code_lists`) -> (table with header row first, number of `get` columns). `hidden`
    variables are unknown to the endpoint (a 400, as for any unknown variable). `memo` keeps the
    last product years made (a query plan asks one year in many parts)."""
    known = known_variables(flow, hidden, source)
    get = next((v for n, v in query if n == "get"), "")
    if not get.strip():
        raise BadRequest("error: missing 'get' argument")
    get_vars = [v.strip() for v in get.split(",")]
    predicates: dict[str, list[str]] = {}  # insertion order = order of first appearance
    for name, value in query:
        if name not in ("get", "key"):
            predicates.setdefault(name, []).append(value)
    for var in [*get_vars, *(p for p in predicates if p != "time")]:  # time: predicate-only
        if var not in known:
            raise BadRequest(f"error: unknown variable '{var}'")
    if "MONTH" in predicates:  # MONTH cells are two digits; accept "3" for "03"
        predicates["MONTH"] = [m.zfill(2) if m.isdigit() else m for m in predicates["MONTH"]]
    ranges = _ranges(predicates)

    header = get_vars + list(predicates)
    table = [header]
    years = sorted({y for start, end in ranges for y in range(start[0], end[0] + 1)})
    filters = [(v, _Wanted(w)) for v, w in predicates.items() if v != "time"]
    for year in years:
        if source == "hs":
            codes = (code_lists or CodeLists()).codes_for(flow, year)
            key = (id(dataset), flow, year, id(codes), product_density)
            records = memo.get(key) if memo is not None else None
            if records is None:
                records = products.year_records(dataset, codes, flow, year, product_density)
                if memo is not None:
                    memo.clear()  # one year at a time: a whole year of products is large
                    memo[key] = records
        else:
            records = _year_records(dataset, flow, year, header)
        for month, rec in records:
            if not any(start <= (year, month) <= end for start, end in ranges):
                continue
            if all(wanted(rec[v]) for v, wanted in filters):
                table.append([rec[v] for v in header])
    return table, len(get_vars)


def encode_table(table: list[list[str]]) -> bytes:
    """JSON array of arrays, one row per line like the real API."""
    # One C-speed dumps, then a newline between rows (no cell contains '],[').
    text = json.dumps(table, separators=(",", ":"), ensure_ascii=False)
    return text.replace("],[", "],\n[").encode()


def _value_columns(header: list[str], n_get: int) -> list[int]:
    return [i for i, v in enumerate(header[:n_get]) if v in VALUE_VARS]


def blank_values(table: list[list], n_get: int, count: int) -> list[list]:
    """Blank the value cells of `count` data rows spread over the table, alternately "" and
    null (the API's two spellings of a missing value)."""
    columns = _value_columns(table[0], n_get)
    data = len(table) - 1
    if not count or not columns or not data:
        return table
    table = [table[0], *(list(row) for row in table[1:])]
    step = max(1, data // count)
    for n, index in enumerate(range(1, data + 1, step)):
        if n == count:
            break
        for col in columns:
            table[index][col] = "" if n % 2 == 0 else None
    return table


def _apply_body_fault(fault: str, table: list[list[str]], n_get: int) -> list[list[str]]:
    if fault == "header_only":
        return table[:1]
    # The column to damage: the last requested value column, else the last `get` column.
    col = max((i for i, v in enumerate(table[0][:n_get]) if v in VALUE_VARS), default=n_get - 1)
    if fault == "missing_column":
        return [row[:col] + row[col + 1 :] for row in table]
    if fault in ("bad_value", "bad_value_decimal") and len(table) > 1:
        table = [list(r) for r in table]
        table[1][col] = "N/A" if fault == "bad_value" else "12.5"
    if fault == "duplicate_row" and len(table) > 1:
        table = table[:2] + [list(table[1])] + table[2:]
    return table


# ---------------------------------------------------------------------------------------------
# HTTP server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive + Content-Length, so "drop" is a real short body

    def version_string(self):
        return "FakeCensusApi/1.0"

    def setup(self):
        super().setup()
        self.server.api._track(self.connection, add=True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.api._track(self.connection, add=False)

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):
        api = self.server.api
        url = urlsplit(self.path)
        path = unquote(url.path)
        rec = RecordedRequest("GET", path, parse_qsl(url.query, keep_blank_values=True))
        api._record(rec)
        api._in_flight(+1)
        try:
            self._dispatch(api, rec)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. its read timeout fired)
        finally:
            if not rec.answered:
                api._in_flight(-1)

    def _dispatch(self, api: FakeCensusApi, rec: RecordedRequest):
        flows = {f"{API_ROOT}/{f}/{src}": (f, src) for f in FLOW_VARS for src in SOURCES}
        metadata = {f"{API_ROOT}/{f}/{src}/variables.json": (f, src) for f, src in flows.values()}
        pages = {
            KEY_SIGNUP_PATH: MISSING_KEY_HTML,  # where key redirects lead
            INVALID_KEY_PATH: INVALID_KEY_HTML,
            MAINTENANCE_PATH: MAINTENANCE_HTML,
        }
        if rec.path in pages:
            return self._send(rec, _html(200, pages[rec.path]))
        if rec.path.startswith(LISTS_PATH + "/"):  # the ATP code lists: plain files, no key
            status, body, content_type = api.code_lists.answer(rec.path[len(LISTS_PATH) + 1 :])
            return self._send(rec, _Reply(status, body, content_type))
        if rec.path in metadata:  # metadata needs no key
            listing = variables_json(
                *metadata[rec.path][:1], api.hidden_variables, source=metadata[rec.path][1]
            )
            body = json.dumps(listing, indent=1).encode()
            return self._send(rec, _Reply(200, body, "application/json;charset=utf-8"))
        if rec.path.rstrip("/") not in flows:
            return self._send(rec, _html(404, NOT_FOUND_HTML))
        flow, source = flows[rec.path.rstrip("/")]

        fault = rec.fault = api._take_fault(flow, rec.query, source)
        if fault == "timeout":
            if api._stopping.wait(api.timeout_sleep):
                self.close_connection = True  # server shutting down: give up quietly
                return
            fault = None  # after the delay, answer normally
        if fault in STATUS_FAULTS:
            return self._send(rec, api._fault_reply(fault, self.path))

        key = rec.param("key")
        if not key:
            return self._send(rec, api._key_redirect("missing key"))
        if api.valid_keys is not None and key not in api.valid_keys:
            return self._send(rec, api._key_redirect("invalid key"))
        # The query as sent, in order: the order of `get` and predicate columns shapes the answer.
        cache_key = (
            api.dataset,
            flow,
            source,
            api.code_lists.version,
            api.max_answer_rows,
            api.product_density,
            tuple(p for p in rec.query if p[0] != "key"),
            api.blank_values,
            api.reverse_rows,
            api.hidden_variables,
        )
        caching = api._body_cache is not None  # (the benchmark's)
        if fault is None and caching and cache_key in api._body_cache:
            return self._send(rec, api._body_cache[cache_key])
        try:
            with api._memo_lock:
                table, n_get = build_table(
                    api.dataset,
                    flow,
                    rec.query,
                    api.hidden_variables,
                    source,
                    api.code_lists,
                    api.product_density,
                    api._product_memo,
                )
        except BadRequest as e:
            return self._send(rec, _text(400, str(e)))
        if source == "hs" and api.max_answer_rows and len(table) - 1 > api.max_answer_rows:
            # What public clients meet on the live API: a large answer never comes.
            reply = api._fault_reply("504")
            if fault is None and caching:
                api._body_cache[cache_key] = reply
            return self._send(rec, reply)
        if len(table) == 1 and fault != "header_only":
            return self._send(rec, _Reply(204))  # valid query, no data (e.g. unreleased year)
        if api.reverse_rows:  # the same rows in another order
            table = [table[0], *reversed(table[1:])]
        table = blank_values(table, n_get, api.blank_values)
        if fault in BODY_FAULTS and fault not in ("drop", "malformed_json"):
            table = _apply_body_fault(fault, table, n_get)
        body = encode_table(table)
        json_type = "application/json;charset=utf-8"
        if fault == "malformed_json":  # fully sent, but cut in the middle: not valid JSON
            return self._send(rec, _Reply(200, body[: max(1, len(body) // 2)], json_type))
        if fault == "drop":
            return self._send(rec, _Reply(200, body, json_type), cut_at=len(body) // 2)
        reply = _Reply(200, body, json_type)
        if fault is None and caching:
            api._body_cache[cache_key] = reply
        return self._send(rec, reply)

    def _send(self, rec: RecordedRequest, reply: _Reply, cut_at: int | None = None):
        rec.status = reply.status
        # Answered from here on: the client may read it and send its next request while this
        # thread is still writing, which is no longer one in flight.
        rec.answered = True
        self.server.api._in_flight(-1)
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        if reply.status != 204:
            if reply.content_type:
                self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if cut_at is None:
            self.wfile.write(reply.body)
            return
        # "drop": part of the body, then reset the connection (SO_LINGER 0 -> RST, not a clean FIN)
        self.wfile.write(reply.body[:cut_at])
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a sleeping handler never keeps the process alive
    block_on_close = False

    def handle_error(self, request, client_address):  # clients dropping connections is expected
        pass


class FakeCensusApi:
    """Fake Census intltrade API on 127.0.0.1 (a free port by default), for use as a context manager.

    dataset       -- object with rows(flow, year) -> list[dict] | None (swap it at run time to
                     simulate a revision: `api.dataset = revised`)
    valid_keys    -- None: any non-empty key works; else only these keys (others get 302)
    retry_after   -- seconds sent in Retry-After by the "429"/"429-date" faults
    timeout_sleep -- seconds the "timeout" fault waits before answering normally
    port          -- port to bind on 127.0.0.1; 0 (the default) picks a free one
    cache_bodies  -- keep each encoded 200 body and serve it again to the same query (the
                     benchmark: the real API's CPU is not on our machine, so the fake's should
                     not compete with the pipeline for it)
    blank_values  -- blank the value cells of this many data rows of every answer (alternately
                     "" and null: a missing value)
    reverse_rows  -- serve the data rows in reverse order (the same content, other bytes)
    hidden_variables -- variables the endpoints no longer have: left out of variables.json, and
                     a data request naming one gets HTTP 400 "unknown variable"
    key_error_header -- send X-DataWebAPI-KeyError with the key redirects (False: the Location
                     alone tells them apart)
    max_answer_rows -- an hs answer of more rows gets HTTP 504, as large answers time out on
                     the live API (None: no limit)
    product_density -- the share of each ATP group's codes that each partner trades (1: all;
                     the benchmark's volume: fewer, as on the live API)
    The options are attributes too: set them on a running server. `api.code_lists` serves the
    ATP code lists under LISTS_PATH (fake_census/code_lists.py): set a list or a fault on it.
    """

    def __init__(
        self,
        dataset,
        *,
        valid_keys=None,
        retry_after: int = 1,
        timeout_sleep: float = 3.0,
        port: int = 0,
        cache_bodies: bool = False,
        blank_values: int = 0,
        reverse_rows: bool = False,
        hidden_variables=(),
        key_error_header: bool = True,
        max_answer_rows: int | None = None,
        product_density: float = 1.0,
    ):
        self.dataset = dataset
        self.blank_values = blank_values
        self.reverse_rows = reverse_rows
        self.hidden_variables = frozenset(hidden_variables)
        self.key_error_header = key_error_header
        self.max_answer_rows = max_answer_rows
        self.product_density = product_density
        self.code_lists = CodeLists()
        self._product_memo: dict = {}
        self._memo_lock = threading.Lock()
        self._body_cache: dict | None = {} if cache_bodies else None
        self._bind_port = port
        self.valid_keys = None if valid_keys is None else frozenset(valid_keys)
        self.retry_after = retry_after
        self.timeout_sleep = timeout_sleep
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._answering = 0
        self.max_concurrent_requests = 0  # the most requests it was answering at once
        self._faults: collections.deque[str] = collections.deque()
        self._targeted: list[list] = []  # [flow, year, fault, remaining]
        self._conns: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> FakeCensusApi:
        self._stopping.clear()
        self._httpd = _Server(("127.0.0.1", self._bind_port), _Handler)
        self._httpd.api = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-census-api",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self):
        if self._httpd is None:
            return
        self._stopping.set()  # wakes "timeout" handlers
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:  # unblock handlers waiting on idle keep-alive connections
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(timeout=2)
        self._httpd = None

    def __enter__(self) -> FakeCensusApi:
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}{API_ROOT}"

    @property
    def atp_codes_base_url(self) -> str:
        """Where this server serves the ATP code lists (CENSUS_ATP_CODES_BASE_URL)."""
        return f"{self.root_url}{LISTS_PATH}"

    # -- recorded requests ------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Snapshot of every request received so far (all paths), oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._requests)

    @property
    def data_requests(self) -> list[RecordedRequest]:
        """Only the requests to the two hitech endpoints."""
        return [r for r in self.requests if r.path.rstrip("/").endswith("/hitech")]

    @property
    def product_requests(self) -> list[RecordedRequest]:
        """Only the requests to the two hs endpoints (product detail)."""
        return [r for r in self.requests if r.path.rstrip("/").endswith("/hs")]

    def reset(self):
        """Forget recorded requests and pending faults."""
        with self._lock:
            self._requests.clear()
            self._faults.clear()
            self._targeted.clear()
            self.max_concurrent_requests = 0

    # -- faults -----------------------------------------------------------------------------

    def script(self, *faults: str):
        """Queue faults; each data request consumes the next one instead of the normal answer."""
        self._check(faults)
        with self._lock:
            self._faults.extend(faults)

    def set_fault_for(
        self, flow: str | None, year: int, fault: str, times: int = 1, source: str = "hitech"
    ):
        """Answer the next `times` requests to the `source` endpoint ("hitech" or "hs") for
        `flow` (None = both) covering `year` with `fault`. Scripted (FIFO) faults, which only
        hitech requests take, come first."""
        self._check([fault])
        with self._lock:
            self._targeted.append([flow, year, fault, times, source])

    @property
    def pending_faults(self) -> int:
        with self._lock:
            return len(self._faults) + sum(t[3] for t in self._targeted)

    @staticmethod
    def _check(faults):
        unknown = [f for f in faults if f not in FAULTS]
        if unknown:
            raise ValueError(f"unknown fault(s) {unknown}; known: {sorted(FAULTS)}")

    def _take_fault(self, flow: str, query, source: str = "hitech") -> str | None:
        with self._lock:
            if self._faults and source == "hitech":
                return self._faults.popleft()
            if not self._targeted:
                return None
        years = _request_years(query)
        with self._lock:
            for entry in self._targeted:
                if entry[0] in (None, flow) and entry[1] in years and entry[4] == source:
                    entry[3] -= 1
                    if entry[3] <= 0:
                        self._targeted.remove(entry)
                    return entry[2]
        return None

    def _fault_reply(self, fault: str, request_target: str = "") -> _Reply:
        if fault == "429":
            return _Reply(
                429,
                b"Too Many Requests",
                "text/plain;charset=utf-8",
                (("Retry-After", str(self.retry_after)),),
            )
        if fault == "429-date":
            when = email.utils.formatdate(time.time() + self.retry_after, usegmt=True)
            return _Reply(
                429, b"Too Many Requests", "text/plain;charset=utf-8", (("Retry-After", when),)
            )
        if fault == "500":
            return _text(500, ERROR_500_TEXT)
        if fault in ("502", "503", "504"):
            return _html(
                int(fault), f"<html><body><h1>{fault} Service Unavailable</h1></body></html>"
            )
        if fault == "html":
            return _html(200, INVALID_KEY_HTML)
        if fault == "html_key_error":
            return _html(200, KEY_ERROR_HTML, ((KEY_ERROR_HEADER, "invalid key"),))
        if fault == "html_maintenance":
            return _html(200, MAINTENANCE_HTML)
        if fault == "redirect":
            return self._key_redirect("missing key")
        if fault == "redirect_maintenance":
            # Like some proxies, it echoes the request (key= included) in the target's query.
            where = f"{self.root_url}{MAINTENANCE_PATH}?{urlencode({'from': request_target})}"
            return _html(302, "<html><body><p>Found.</p></body></html>", (("Location", where),))
        if fault == "redirect_moved":
            return _html(
                301,
                "<html><body><p>Moved Permanently.</p></body></html>",
                (("Location", f"{self.root_url}/data/v2{request_target}"),),
            )
        if fault == "204":
            return _Reply(204)
        if fault in ("401", "403"):
            return _text(int(fault), "Forbidden" if fault == "403" else "Unauthorized")
        assert fault == "400"
        return _text(400, "error: unknown variable 'XYZ'")

    def _key_redirect(self, why: str) -> _Reply:
        # Points at this server (not census.gov) so a client that follows redirects gets the
        # real-world outcome, 200 + HTML, without network access. The key is never echoed.
        page = KEY_SIGNUP_PATH if why == "missing key" else INVALID_KEY_PATH
        headers = [("Location", f"{self.root_url}{page}")]
        if self.key_error_header:
            headers.append((KEY_ERROR_HEADER, why))
        return _html(
            302, "<html><body><p>Found. Redirecting to the key page.</p></body></html>", headers
        )

    # -- internals --------------------------------------------------------------------------

    def _in_flight(self, change: int) -> None:
        with self._lock:
            self._answering += change
            self.max_concurrent_requests = max(self.max_concurrent_requests, self._answering)

    def _record(self, rec: RecordedRequest):
        with self._lock:
            self._requests.append(rec)

    def _track(self, conn, add: bool):
        with self._lock:
            (self._conns.add if add else self._conns.discard)(conn)


def _request_years(query) -> set[int]:
    """Years a query covers (lenient: unparseable -> empty), for set_fault_for targeting."""
    predicates: dict[str, list[str]] = {}
    for name, value in query:
        predicates.setdefault(name, []).append(value)
    try:
        return {y for s, e in _ranges(predicates) for y in range(s[0], e[0] + 1)}
    except BadRequest:
        return set()
