"""Read-only queries on the published marts (ATP_PUBLISHED) for the `atp` analyst commands.

Every function takes an open connection (see `open_published`) and returns plain Python values,
so one connection can serve several queries.
"""

from __future__ import annotations

import difflib
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from analyst.formats import one_line, plural, source_line
from ingest.errors import AtpError
from ingest.files import atomic_path
from ingest.partner_names import display_name
from ingest.warehouse import MARTS, connect, damage, mart_tables, sql_string, table_exists

REQUIRED_MARTS = ("fct_atp_partner_year", "fct_us_atp_year")
FLOWS = ("imports", "exports")


class AnalystError(AtpError):
    """A command cannot answer: no marts, an unloaded year, an unknown partner or group, a
    refused or failing query. The message is one line a user can act on."""


# -- the published warehouse -----------------------------------------------------------------


@contextmanager
def open_published(
    path: Path, required: Sequence[str] = REQUIRED_MARTS
) -> Iterator[duckdb.DuckDBPyConnection]:
    """The published copy, read-only, after checking that it holds the `required` marts. A
    damaged copy, found on opening or by any query on it, is one AnalystError saying what to do."""
    try:
        with connect(path, read_only=True) as con:
            held = set(mart_tables(con))
            if not held:
                raise AnalystError(
                    f"{path} has no marts: run `make run` (or `make rebuild`) to build and "
                    "publish them."
                )
            if missing := sorted(set(required) - held):
                # A copy published by an older version (or a build that stopped) lacks them.
                raise AnalystError(
                    f"{path} has no {', '.join(f'marts.{name}' for name in missing)}: run "
                    "`make run` (or `make rebuild`) to publish them."
                )
            yield con
    except (duckdb.Error, AtpError) as exc:
        if (reason := damage(exc)) is None:
            raise
        raise AnalystError(
            f"the published copy {path} is damaged ({reason}): run `atp rebuild` (from the "
            "landing zone, no network) or `make run` to publish it again."
        ) from None


def records(cursor: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def loaded_years(con: duckdb.DuckDBPyConnection) -> dict[int, int]:
    """{year: months_covered} of every loaded year, in order."""
    rows = con.execute(
        f"SELECT year, months_covered FROM {MARTS}.fct_us_atp_year ORDER BY year"
    ).fetchall()
    return dict(rows)


def require_year(con: duckdb.DuckDBPyConnection, year: int) -> int:
    """The months `year` covers, or a clear error when it is not loaded."""
    years = loaded_years(con)
    if year in years:
        return years[year]
    path = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()[0]
    if years and year > max(years):
        raise AnalystError(
            f"{year} has no data yet: {path} runs through {max(years)} "
            f"({plural(years[max(years)], 'month')} of it)."
        )
    span = f"{min(years)}-{max(years)}" if years else "none"
    raise AnalystError(
        f"{year} is not loaded in {path} (years loaded: {span}). "
        "Set ATP_START_YEAR and run `make run` to load it."
    )


def publication(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The copy's `main.publication` row: when it was published (published_at), the newest month
    it holds (newest_month) and, in copies published since they were recorded, the API it came
    from (source_api) and whether it is demo data (demo). Empty if not recorded."""
    # Checked first, not caught: for a missing table DuckDB would look for a Python variable of
    # that name (a replacement scan) and find this function.
    if not table_exists(con, "main.publication"):
        return {}
    found = records(con.execute("SELECT * FROM main.publication"))
    return found[0] if found else {}


def source_of(con: duckdb.DuckDBPyConnection) -> str:
    """The source line for the copy open on `con` (see `analyst.formats.source_line`)."""
    return source_line(publication(con))


# -- partners ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Partner:
    code: str
    name: str
    kind: str  # 'country' or 'grouping'
    region: str | None
    first_year: int
    last_year: int

    @property
    def label(self) -> str:
        return f"{display_name(self.name)} ({self.code})"


# Everyday names -> the Census names they stand for (normalized as `_norm` does; the first name
# the published copy holds wins, so a name Census changes can list both spellings).
PARTNER_ALIASES: dict[str, tuple[str, ...]] = {
    "south korea": ("KOREA, SOUTH",),
    "republic of korea": ("KOREA, SOUTH",),
    "rok": ("KOREA, SOUTH",),
    "north korea": ("KOREA, NORTH",),
    "dprk": ("KOREA, NORTH",),
    "uk": ("UNITED KINGDOM",),
    "britain": ("UNITED KINGDOM",),
    "great britain": ("UNITED KINGDOM",),
    "england": ("UNITED KINGDOM",),
    "uae": ("UNITED ARAB EMIRATES",),
    "emirates": ("UNITED ARAB EMIRATES",),
    "czechia": ("CZECH REPUBLIC", "CZECHIA"),
    "czech republic": ("CZECH REPUBLIC", "CZECHIA"),
    "vietnam": ("VIETNAM",),
    "viet nam": ("VIETNAM",),
    "taiwan": ("TAIWAN",),
    "republic of china": ("TAIWAN",),
    "russia": ("RUSSIA",),
    "russian federation": ("RUSSIA",),
    "prc": ("CHINA",),
    "mainland china": ("CHINA",),
    "peoples republic of china": ("CHINA",),
    "holland": ("NETHERLANDS",),
    "the netherlands": ("NETHERLANDS",),
    "turkiye": ("TURKEY",),
    "myanmar": ("BURMA",),
    "ivory coast": ("COTE D'IVOIRE",),
    "cape verde": ("CABO VERDE", "CAPE VERDE"),
    "east timor": ("TIMOR-LESTE",),
    "eswatini": ("ESWATINI", "SWAZILAND"),
    "swaziland": ("ESWATINI", "SWAZILAND"),
    "macao": ("MACAU",),
    "dr congo": ("CONGO (KINSHASA)",),
    "drc": ("CONGO (KINSHASA)",),
    "congo brazzaville": ("CONGO (BRAZZAVILLE)",),
    "vatican": ("HOLY SEE (VATICAN CITY)",),
    "eu": ("EUROPEAN UNION",),
    "nafta": ("USMCA (NAFTA)",),
    "usmca": ("USMCA (NAFTA)",),
}
# Names of the United States itself: the reporter, not a partner.
US_NAMES = frozenset(
    {"us", "usa", "u s", "u s a", "united states", "america", "united states of america"}
)


def find_partner(con: duckdb.DuckDBPyConnection, text: str) -> Partner:
    """A partner by code (exact) or name (case-insensitive, punctuation ignored, 'saint' = 'st';
    an everyday name from PARTNER_ALIASES such as 'South Korea' or 'UK'; a part of a name when
    only one partner has it). Countries and groupings; the U.S. total is refused."""
    query = text.strip()
    if not query:
        raise AnalystError("give a partner code (e.g. 2010) or name (e.g. mexico).")
    if _norm(query) in US_NAMES:
        raise AnalystError(
            f"{query!r} is the reporter: the marts hold U.S. trade with its partners. The U.S. "
            "total (all partners): `atp report` or marts.fct_us_atp_year."
        )
    rows = con.execute(
        f"SELECT partner_code, partner_name, partner_kind, region, first_year, last_year "
        f"FROM {MARTS}.dim_partner ORDER BY partner_code"
    ).fetchall()
    partners = [Partner(*row) for row in rows]
    by_code = {p.code.upper(): p for p in partners}
    wanted = _norm(query)
    hit = by_code.get(query.upper())
    if hit is None:
        exact = [p for p in partners if _norm(p.name) == wanted]
        if len(exact) == 1:
            hit = exact[0]
    if hit is None and wanted in PARTNER_ALIASES:
        by_name = {_norm(p.name): p for p in partners}
        hit = next(
            (by_name[_norm(n)] for n in PARTNER_ALIASES[wanted] if _norm(n) in by_name), None
        )
    if hit is not None and hit.kind == "total":
        raise AnalystError(
            f"{query!r} is the U.S. total (all partners), not a partner: see `atp report` or "
            "marts.fct_us_atp_year."
        )
    if hit is not None:
        return hit
    candidates = [p for p in partners if p.kind != "total"]
    partial = [p for p in candidates if wanted and wanted in _norm(p.name)]
    if len(partial) == 1:
        return partial[0]
    if partial:
        partial.sort(key=lambda p: (-_closeness(wanted, p.name), p.name))
        raise AnalystError(
            f"{query!r} matches {len(partial)} partners: {_listing([p.label for p in partial])}. "
            "Give the code or more of the name."
        )
    if re.fullmatch(r"[0-9A-Za-z]{4}", query) and re.search(r"\d", query):
        close = _closest(query.upper(), {p.label: p.code.upper() for p in candidates})
    else:
        close = _closest(wanted, {p.label: _norm(p.name) for p in candidates})
    hint = f"closest: {_listing(close)}" if close else "nothing similar"
    if wanted in PARTNER_ALIASES:
        hint = f"Census calls it {display_name(PARTNER_ALIASES[wanted][0])}, not in this copy"
    raise AnalystError(
        f"no partner matches {query!r} ({hint}). Codes and names: "
        '`atp sql "SELECT partner_code, partner_name FROM marts.dim_partner ORDER BY 2"`.'
    )


PARTNER_YEAR_COLUMNS = (
    "atp_imports_usd",
    "atp_imports_change_usd",
    "atp_imports_yoy_pct",
    "atp_imports_share_pct",
    "atp_imports_rank",
    "atp_exports_usd",
    "atp_exports_yoy_pct",
    "atp_exports_share_pct",
    "atp_exports_rank",
    "atp_balance_usd",
    "goods_imports_usd",
    "goods_exports_usd",
    "goods_trade_usd",
    "goods_balance_usd",
    "goods_imports_yoy_pct",
    "goods_trade_yoy_pct",
    "atp_share_of_goods_imports_pct",
)


def partner_years(con: duckdb.DuckDBPyConnection, partner: Partner) -> list[dict[str, Any]]:
    """One row per loaded year (all of them, from the first): the partner's ATP and goods
    measures; NULL measures in a year without any trade recorded for the partner. Groupings
    come from fct_atp_grouping_year and have no rank."""
    if partner.kind == "grouping":
        table, key = "fct_atp_grouping_year", "grouping_code"
        ranks = {"atp_imports_rank", "atp_exports_rank"}
    else:
        table, key, ranks = "fct_atp_partner_year", "partner_code", set()
    measures = ", ".join(
        f"NULL::INTEGER AS {c}" if c in ranks else f"p.{c}" for c in PARTNER_YEAR_COLUMNS
    )
    return records(
        con.execute(
            f"""
            SELECT u.year, u.months_covered, p.year IS NOT NULL AS has_trade, {measures}
            FROM {MARTS}.fct_us_atp_year AS u
            LEFT JOIN {MARTS}.{table} AS p ON p.year = u.year AND p.{key} = ?
            ORDER BY u.year
            """,
            [partner.code],
        )
    )


@dataclass
class CategoryMix:
    year: int | None  # the latest full year (months_covered = 12); None when none is loaded
    rows: list[dict[str, Any]] = field(default_factory=list)


def partner_category_mix(con: duckdb.DuckDBPyConnection, partner: Partner) -> CategoryMix:
    """The partner's ATP groups in the latest full year, largest imports first (countries only:
    the marts keep groups by country, not by grouping)."""
    full = [y for y, months in loaded_years(con).items() if months == 12]
    mix = CategoryMix(max(full) if full else None)
    if mix.year is None or partner.kind != "country":
        return mix
    mix.rows = records(
        con.execute(
            f"""
            SELECT hitech_code, category_name, imports_usd, share_of_partner_atp_imports_pct,
                   exports_usd, share_of_partner_atp_exports_pct, balance_usd,
                   imports_yoy_pct, exports_yoy_pct,
                   share_of_us_category_imports_pct, share_of_us_category_exports_pct
            FROM {MARTS}.fct_atp_partner_category_year
            WHERE partner_code = ? AND year = ?
            ORDER BY imports_usd DESC, hitech_code
            """,
            [partner.code, mix.year],
        )
    )
    return mix


# -- ATP groups -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    description: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.code})"


def find_category(con: duckdb.DuckDBPyConnection, text: str) -> Category:
    """An ATP group by code ('08' or '8') or name ('aerospace'; case-insensitive, a part of the
    name when only one group has it)."""
    query = text.strip()
    groups = [
        Category(*row)
        for row in con.execute(
            f"SELECT hitech_code, category_name, census_description FROM {MARTS}.dim_atp_category "
            "ORDER BY hitech_code"
        ).fetchall()
    ]
    every = "ATP groups: " + ", ".join(f"{g.code} {g.name}" for g in groups)
    if query.isdigit():
        code = f"{int(query):02d}"
        for group in groups:
            if group.code == code:
                return group
        raise AnalystError(f"{query!r} is not an ATP group code (01-10). {every}.")
    wanted = _norm(query)
    if not wanted:
        raise AnalystError(f"give an ATP group code or name. {every}.")
    for group in groups:
        if wanted in (_norm(group.name), _norm(_strip_code(group.description))):
            return group
    partial = [g for g in groups if wanted in _norm(g.name)]
    if len(partial) == 1:
        return partial[0]
    if partial:
        raise AnalystError(
            f"{query!r} matches {len(partial)} ATP groups: {_listing([g.label for g in partial])}. "
            "Give the code or more of the name."
        )
    close = _closest(wanted, {g.label: _norm(g.name) for g in groups})
    hint = f"closest: {_listing(close)}; " if close else ""
    raise AnalystError(f"no ATP group matches {query!r} ({hint}{every}).")


def category_partners(
    con: duckdb.DuckDBPyConnection, category: Category, year: int, flow: str, top: int
) -> list[dict[str, Any]]:
    """The largest partners of the group for the flow, ranked among countries (1 = largest)."""
    check_flow(flow)
    return records(
        con.execute(
            f"""
            SELECT rank() OVER (ORDER BY {flow}_usd DESC)::INTEGER AS rank,
                   partner_code, partner_name, {flow}_usd, {flow}_change_usd, {flow}_yoy_pct,
                   share_of_us_category_{flow}_pct, share_of_partner_atp_{flow}_pct, balance_usd
            FROM {MARTS}.fct_atp_partner_category_year
            WHERE year = ? AND hitech_code = ?
            ORDER BY rank, partner_code
            LIMIT ?
            """,
            [year, category.code, top],
        )
    )


# -- any read-only query ------------------------------------------------------------------------

_READS = {"SELECT", "EXPLAIN", "PRAGMA", "CALL", "MULTI"}  # MULTI: PIVOT
_WRITES = {
    "INSERT": "INSERT",
    "UPDATE": "UPDATE",
    "DELETE": "DELETE",
    "MERGE_INTO": "MERGE",
    "CREATE": "CREATE",
    "CREATE_FUNC": "CREATE",
    "DROP": "DROP",
    "ALTER": "ALTER",
    "COPY": "COPY",
    "COPY_DATABASE": "COPY",
    "EXPORT": "EXPORT",
    "ATTACH": "ATTACH",
    "DETACH": "DETACH",
    "VACUUM": "VACUUM",
    "ANALYZE": "ANALYZE",
}
_READ_ONLY_HELP = (
    "atp sql runs one read-only query (SELECT, FROM, WITH, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN, "
    "PRAGMA, CALL) on the published warehouse"
)


# Rows fetched from DuckDB at a time: `atp sql` holds one batch, never the whole result.
FETCH_ROWS = 2048


@dataclass
class QueryResult:
    columns: list[str]
    rows: Iterator[tuple]  # fetched batch by batch as they are read


class TimeLimit:
    """Stops the query on `con` after `seconds` (0: never): DuckDB is interrupted wherever it is
    (running or fetching), and the error becomes one line saying what to do. Use as a context
    manager around running the query and reading its rows."""

    def __init__(self, con: duckdb.DuckDBPyConnection, seconds: int):
        self.seconds = seconds
        self._con = con
        self._expired = threading.Event()
        self._timer = threading.Timer(seconds, self._expire) if seconds else None

    def check(self) -> None:
        """Raise once the time is up (between batches: a fetched result needs no interrupt)."""
        if self._expired.is_set():
            raise self.error()

    def error(self) -> AnalystError:
        return AnalystError(
            f"query stopped after {self.seconds} s (ATP_SQL_TIMEOUT_SECONDS); add a LIMIT or "
            "raise --timeout"
        )

    def _expire(self) -> None:
        self._expired.set()
        try:
            self._con.interrupt()
        except duckdb.Error:  # the connection closed meanwhile: nothing left to stop
            pass

    def __enter__(self) -> TimeLimit:
        if self._timer is not None:
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if isinstance(error, duckdb.Error | AtpError) and self._expired.is_set():
            raise self.error() from None  # DuckDB's "Interrupted!", said with what to do


def check_read_only(sql: str) -> None:
    """Refuse, before running anything, a statement that writes (or sets, attaches, loads):
    DuckDB's own parser says what each statement is."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise AnalystError(one_line(exc)) from None
    if not statements:
        raise AnalystError("no SQL statement given.")
    if len(statements) > 1:
        raise AnalystError(f"{len(statements)} statements given: {_READ_ONLY_HELP}, one at a time.")
    kind = statements[0].type.name
    if kind in _WRITES:
        raise AnalystError(
            f"refused: {_WRITES[kind]} writes, and {_READ_ONLY_HELP} (a read-only copy). "
            "To change the marts, edit the dbt models and run `make run`."
        )
    if kind not in _READS:
        word = {"LOAD": "INSTALL/LOAD", "VARIABLE_SET": "SET", "TRANSACTION": "BEGIN/COMMIT"}
        raise AnalystError(f"refused: {word.get(kind, kind)} is not allowed: {_READ_ONLY_HELP}.")


def run_query(
    con: duckdb.DuckDBPyConnection, sql: str, limit: TimeLimit | None = None
) -> QueryResult:
    """Run one read-only query; its rows are fetched as they are read (`limit`, if given, is
    checked between batches). Unqualified names find the marts (search path marts, main); the
    session cannot touch files, change settings or write (the database is opened read-only):
    DuckDB's refusals come back as one-line errors too."""
    check_read_only(sql)
    con.execute(f"SET search_path = '{MARTS},main'")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    try:
        cursor = con.execute(sql)
    except duckdb.Error as exc:
        raise _query_error(exc) from None
    if cursor.description is None:
        return QueryResult([], iter(()))
    columns = [d[0] for d in cursor.description]
    return QueryResult(columns, _fetched(cursor, limit))


def _fetched(cursor: duckdb.DuckDBPyConnection, limit: TimeLimit | None) -> Iterator[tuple]:
    while True:
        if limit is not None:
            limit.check()
        try:
            rows = cursor.fetchmany(FETCH_ROWS)
        except duckdb.Error as exc:
            raise _query_error(exc) from None
        if not rows:
            return
        yield from rows


def _query_error(exc: duckdb.Error) -> Exception:
    """A DuckDB error as one line (damage is left to `open_published`, which says what to do)."""
    if damage(exc):
        return exc
    message = one_line(exc)
    if "read-only" in message:
        return AnalystError(f"refused: the published warehouse is read-only ({message}).")
    if isinstance(exc, duckdb.PermissionException):
        return AnalystError(f"refused: {_READ_ONLY_HELP}, without file access ({message}).")
    if isinstance(exc, duckdb.CatalogException):
        message += ' (the tables: `atp sql "SHOW ALL TABLES"`)'
    return AnalystError(message)


# -- export -------------------------------------------------------------------------------------


@dataclass
class ExportedTable:
    name: str
    path: Path
    rows: int
    columns: list[tuple[str, str]]  # (name, DuckDB type)


def export_marts(con: duckdb.DuckDBPyConnection, out: Path, fmt: str) -> list[ExportedTable]:
    """Every mart table to `out`/<table>.<fmt> (rows in a stable order), each file written
    atomically: a failed export leaves no half-written file."""
    if fmt not in ("parquet", "csv"):
        raise AnalystError(f"unknown export format {fmt!r} (parquet or csv).")
    if out.exists() and not out.is_dir():
        raise AnalystError(f"{out} exists and is not a directory.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AnalystError(f"cannot create {out}: {exc.strerror or exc}.") from None
    options = "FORMAT parquet" if fmt == "parquet" else "FORMAT csv, HEADER true"
    exported = []
    for table in mart_tables(con):
        target = out / f"{table}.{fmt}"
        columns = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
            [MARTS, table],
        ).fetchall()
        try:
            with atomic_path(target) as partial:
                # COPY answers with the number of rows it wrote.
                rows = con.execute(
                    f'COPY (SELECT * FROM {MARTS}."{table}" ORDER BY ALL) '
                    f"TO '{sql_string(str(partial))}' ({options})"
                ).fetchone()[0]
        except (duckdb.Error, OSError) as exc:
            raise AnalystError(f"cannot write {target}: {one_line(exc)}") from None
        exported.append(ExportedTable(table, target, rows, list(columns)))
    if not exported:
        raise AnalystError("the published warehouse has no mart tables to export.")
    return exported


@dataclass
class Descriptions:
    models: dict[str, str] = field(default_factory=dict)  # table -> description
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # table -> column -> text


def mart_descriptions(con: duckdb.DuckDBPyConnection) -> Descriptions:
    """The marts' table and column descriptions, from the published copy itself: dbt writes
    them as DuckDB comments (persist_docs) and publishing keeps them."""
    found = Descriptions()
    for table, comment in con.execute(
        "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = ?", [MARTS]
    ).fetchall():
        found.models[table] = comment or ""
    for table, column, comment in con.execute(
        "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE schema_name = ?",
        [MARTS],
    ).fetchall():
        found.columns.setdefault(table, {})[column] = comment or ""
    return found


# -- helpers ------------------------------------------------------------------------------------


def check_flow(flow: str) -> None:
    if flow not in FLOWS:
        raise AnalystError(f"unknown flow {flow!r} (imports or exports).")


def _norm(text: str) -> str:
    words = re.sub(r"[^0-9a-z]+", " ", text.casefold().replace("'", "")).split()
    return " ".join("st" if w == "saint" else w for w in words)


def _closeness(wanted: str, name: str) -> float:
    return difflib.SequenceMatcher(None, wanted, _norm(name)).ratio()


def _closest(wanted: str, choices: dict[str, str], n: int = 5) -> list[str]:
    """Labels whose normalized name (or one of its words) is close to `wanted`."""
    scored = []
    for label, name in choices.items():
        score = max(
            [difflib.SequenceMatcher(None, wanted, name).ratio()]
            + [difflib.SequenceMatcher(None, wanted, word).ratio() for word in name.split()]
        )
        if score >= 0.6:
            scored.append((-score, label))
    return [label for _, label in sorted(scored)[:n]]


def _listing(labels: list[str], limit: int = 10) -> str:
    shown = ", ".join(labels[:limit])
    return shown + (f" and {len(labels) - limit} more" if len(labels) > limit else "")


def _strip_code(description: str) -> str:
    return re.sub(r"\s*\[\d+\]\s*$", "", description)
