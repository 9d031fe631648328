"""Write raw Census rows into the DuckDB warehouse, one (dataset, flow, year) partition at a time.

A partition load is a single transaction (add the vintage to the history table, point the year at
it), so a failure at any point leaves the previous rows, and loading the same rows twice gives the
same table. The raw table is a view: the history rows of each year's current vintage.

A vintage is identified by its content (CensusTable.content_hash, kept in the history table's
`_content_sha256`), not by its bytes: a fetch whose content equals the partition's vintage before
it adds no history rows, even when it was landed as another file.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingest.answer_files import CheckedAnswers
from ingest.census_format import CensusTable
from ingest.datasets import DATASETS, FLOWS, HITECH, VALUE_COLUMN, CensusDataset
from ingest.errors import WarehouseBusyError, WarehouseError

RAW_SCHEMA = "raw"
MARTS = "marts"  # dbt's marts schema, in the working warehouse and in the published copy
# DuckDB caches up to 80% of RAM by default; the partitions we load are a few MB, so a cap keeps
# the pipeline process small on a shared machine (DuckDB spills to disk beyond it).
DUCKDB_CONFIG = {"memory_limit": "128MB"}


def raw_table(flow: str, dataset: CensusDataset = HITECH) -> str:
    return dataset.raw_table(flow)


class DamagedWarehouseError(WarehouseError):
    """A DuckDB file that is not, or no longer, a whole database: other bytes, cut short, a block
    that fails its checksum. `reason` says which, in a few words."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


# What DuckDB says of a damaged file, and how we say it.
_DAMAGE = {
    "not a valid DuckDB database file": "not a DuckDB database",
    "Could not read enough bytes": "cut short",
    "Corrupt database file": "a block fails its checksum",
}
# How to get a good working warehouse back: everything in it comes from the landing zone.
REBUILD_FIX = (
    "run `atp rebuild`, which rebuilds it from the landing zone without the network (the landing "
    "zone keeps every answer the API gave)"
)


def damage(exc: BaseException) -> str | None:
    """The few words saying how a DuckDB file is damaged, when `exc` says it is; else None."""
    if isinstance(exc, DamagedWarehouseError):
        return exc.reason
    if isinstance(exc, duckdb.Error):
        return next((words for sign, words in _DAMAGE.items() if sign in str(exc)), None)
    return None


def damaged_warehouse(path: Path, reason: str) -> DamagedWarehouseError:
    """The one line for a damaged working warehouse (ATP_WAREHOUSE): what to do about it."""
    wal = path.with_name(path.name + ".wal")
    also = f" and `mv {wal} {wal}.damaged`" if wal.exists() else ""
    return DamagedWarehouseError(
        f"ATP_WAREHOUSE={path} is damaged ({reason}): move it aside (`mv {path} "
        f"{path}.damaged`{also}), then {REBUILD_FIX}.",
        reason,
    )


@contextmanager
def connect(path: Path, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse, turning DuckDB's lock error into an actionable message (and a damaged
    file into a DamagedWarehouseError, which the caller completes with what to do)."""
    if read_only and not path.exists():
        raise WarehouseError(
            f"no warehouse at {path}: run `make run` first (or check ATP_PUBLISHED / ATP_WAREHOUSE)."
        )
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only, config=DUCKDB_CONFIG)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseBusyError(
                f"warehouse busy: another process has {path} open for writing "
                f"({_lock_holder(str(exc))}). Wait for it to finish or close it (a DuckDB shell, a "
                "notebook, `dagster dev` running a job), then try again."
            ) from None
        if reason := damage(exc):
            raise DamagedWarehouseError(f"{path} is damaged ({reason}).", reason) from None
        raise WarehouseError(f"cannot open the warehouse {path}: {exc}") from None
    try:
        yield con
    finally:
        con.close()


def _lock_holder(message: str) -> str:
    marker = "Conflicting lock is held in"
    if marker in message:
        return "held by " + message.split(marker, 1)[1].strip().rstrip(".")
    return "the file is locked"


def history_table(flow: str, dataset: CensusDataset = HITECH) -> str:
    return f"{raw_table(flow, dataset)}_history"


def current_table(flow: str, dataset: CensusDataset = HITECH) -> str:
    """Which vintage (landed file) of each year the raw table shows."""
    return f"{raw_table(flow, dataset)}_current"


# The ATP code list of each flow-year as landed (ingest/atp_code_lists.py): which 10-digit
# codes make up each ATP group that year. The product marts join each year to its own list.
ATP_CODES_TABLE = f"{RAW_SCHEMA}.atp_codes"


def ensure_raw_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    for dataset in DATASETS.values():
        for flow in FLOWS:
            _ensure_raw_tables(con, dataset, flow)
    con.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {ATP_CODES_TABLE} (
            "flow" VARCHAR NOT NULL,
            "year" INTEGER NOT NULL,
            "atp_group" VARCHAR NOT NULL,  -- 01..10, the hitech endpoints' HITECH code
            "commodity_code" VARCHAR NOT NULL,  -- 10 digits
            "description" VARCHAR NOT NULL,
            "_fetched_at" TIMESTAMP NOT NULL,  -- UTC
            "_landing_file" VARCHAR NOT NULL  -- relative to ATP_LANDING_DIR
        )
        """
    )


def load_code_list(
    con: duckdb.DuckDBPyConnection,
    flow: str,
    year: int,
    codes: list[tuple[str, str, str]],
    *,
    fetched_at: datetime,
    landing_file: str,
) -> bool:
    """Make (group, code, description) `codes` the flow-year's list, in one transaction.
    Returns whether it changed: a list landed with the same content reuses its file, so the
    same file means the same list, and nothing is written."""
    stored = con.execute(
        f"SELECT any_value(_landing_file) FROM {ATP_CODES_TABLE} WHERE flow = ? AND year = ?",
        [flow, year],
    ).fetchone()[0]
    if stored == landing_file:
        return False
    fetched_at = fetched_at.astimezone(UTC).replace(tzinfo=None)
    with _transaction(con):
        con.execute(f"DELETE FROM {ATP_CODES_TABLE} WHERE flow = ? AND year = ?", [flow, year])
        if codes:  # one statement: executemany runs one per row, 0.8 s for 600 codes
            groups, numbers, descriptions = (list(column) for column in zip(*codes, strict=True))
            con.execute(
                f"INSERT INTO {ATP_CODES_TABLE} SELECT ?, ?, unnest(?), unnest(?), unnest(?), ?, ?",
                [flow, year, groups, numbers, descriptions, fetched_at, landing_file],
            )
    return True


def _ensure_raw_tables(con: duckdb.DuckDBPyConnection, dataset: CensusDataset, flow: str) -> None:
    history, current, raw = (
        history_table(flow, dataset),
        current_table(flow, dataset),
        raw_table(flow, dataset),
    )
    # Fields exactly as delivered (strings; a missing value is NULL); dbt staging types them.
    # The history table holds every distinct vintage ever fetched.
    census_columns = "".join(f'"{name}" VARCHAR, ' for name in dataset.columns(flow))
    con.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {history} (
            {census_columns}
            "year" INTEGER NOT NULL,
            "_fetched_at" TIMESTAMP NOT NULL,  -- UTC
            "_landing_file" VARCHAR NOT NULL,  -- relative to ATP_LANDING_DIR
            "_content_sha256" VARCHAR  -- NULL for vintages stored before it was recorded
        )
        """
    )
    if "_content_sha256" not in _columns(con, history):
        con.execute(f'ALTER TABLE {history} ADD COLUMN "_content_sha256" VARCHAR')
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {current} "
        '("year" INTEGER NOT NULL, "_landing_file" VARCHAR NOT NULL)'
    )
    if _table_type(con, raw) == "BASE TABLE":
        _raw_table_to_view(con, raw, history, current)
    # The raw table is the newest vintage of each year: a view of the history, so that a
    # load writes each row once (writing it twice cost more than the rest of the load).
    con.execute(
        f"CREATE VIEW IF NOT EXISTS {raw} AS "
        f"SELECT h.* EXCLUDE (_content_sha256) FROM {history} AS h "
        f"SEMI JOIN {current} AS c USING (year, _landing_file)"
    )


def _raw_table_to_view(
    con: duckdb.DuckDBPyConnection, raw: str, history: str, current: str
) -> None:
    """A warehouse from before the raw view: its raw table's rows become the years' current
    vintages (added to the history if it lacks them), in one transaction. Their `_fetched_at`
    becomes the vintage's first fetch, where older versions stamped a later reload's time."""
    with _transaction(con):
        con.execute(
            f"INSERT INTO {history} BY NAME SELECT * FROM {raw} "
            f"WHERE _landing_file NOT IN (SELECT _landing_file FROM {history})"
        )
        con.execute(
            f"INSERT INTO {current} SELECT year, any_value(_landing_file) FROM {raw} GROUP BY year"
        )
        con.execute(f"DROP TABLE {raw}")


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All the statements inside, or none of them (rolled back on any error, Ctrl-C included)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _table_type(con: duckdb.DuckDBPyConnection, table: str) -> str | None:
    schema, name = table.split(".")
    row = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, name],
    ).fetchone()
    return row[0] if row else None


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    schema, name = table.split(".")
    return [
        row[0]
        for row in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ?",
            [schema, name],
        ).fetchall()
    ]


@contextmanager
def writer(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse for loading partitions, with the raw tables in place. Load a whole run
    of partitions through one writer: DuckDB checkpoints when a connection closes, and doing
    that after every partition cost more than the loads themselves. A damaged file, found on
    opening or on reading a block, raises a DamagedWarehouseError saying what to do."""
    try:
        with connect(path) as con:
            ensure_raw_tables(con)
            yield con
    except (duckdb.Error, DamagedWarehouseError) as exc:
        if (reason := damage(exc)) is None:
            raise
        raise damaged_warehouse(path, reason) from None


def load_partition(
    con: duckdb.DuckDBPyConnection,
    table: CensusTable | CheckedAnswers,
    files: Sequence[Path],
    *,
    fetched_at: datetime,
    landing_file: str,
    current: bool = True,
) -> bool:
    """Record one vintage of (table.flow, table.year) in one transaction: add it to the history
    table unless that landed file is there already, or the partition's vintage before it (by
    fetch time) has the same content; when `current`, make it the year's rows in the raw table.
    Returns whether anything changed: a new vintage, or other content in the raw table. When
    nothing did, nothing is written (a refresh that finds the same data stores nothing).

    `table` is the checked content of the landed `files` (one response, or a fetch's answers).
    DuckDB reads the rows from the files themselves, which is faster and lighter than handing it
    Python objects."""
    fetched_at = fetched_at.astimezone(UTC).replace(tzinfo=None)
    history = history_table(table.flow, table.dataset)
    changed = False
    with _transaction(con):
        source = landing_file  # the vintage whose rows the raw table gets
        known = con.execute(
            f"SELECT count(*) FROM {history} WHERE _landing_file = ?", [landing_file]
        ).fetchall()[0][0]
        if not known:
            # The same content as the vintage before it: no new vintage, its rows serve.
            before = con.execute(
                f"SELECT _landing_file, _content_sha256 FROM {history} "
                "WHERE year = ? AND _fetched_at <= ? "
                "ORDER BY _fetched_at DESC, _landing_file DESC LIMIT 1",
                [table.year, fetched_at],
            ).fetchone()
            if before is not None and before[1] == table.content_hash:
                source = before[0]
            else:
                _insert_body(con, history, table, files, fetched_at, landing_file)
                changed = True
        if current and (changed or _current_content(con, table) != table.content_hash):
            _make_current(con, table, source)
            changed = True
    return changed


def _current_content(con: duckdb.DuckDBPyConnection, table: CensusTable) -> str | None:
    """The content hash of the year's current vintage (None: no vintage, or one stored before
    content hashes were recorded)."""
    return con.execute(
        f"SELECT any_value(h._content_sha256) FROM {history_table(table.flow, table.dataset)} AS h "
        f"SEMI JOIN {current_table(table.flow, table.dataset)} AS c USING (year, _landing_file) "
        "WHERE h.year = ?",
        [table.year],
    ).fetchone()[0]


def _insert_body(
    con: duckdb.DuckDBPyConnection,
    target: str,
    table: CensusTable | CheckedAnswers,
    files: Sequence[Path],
    fetched_at: datetime,
    landing_file: str,
) -> None:
    # Each file is the API's JSON array of rows, header first (the same header in each). DuckDB
    # streams them one row at a time and skips a header by its value cell, which in every data
    # row is a whole number or missing (the parse checked that): a missing value (null or "") is
    # stored as NULL, and NULL IS DISTINCT FROM the header's name, so such a row is kept. A null
    # code or name is stored as "", as the parse reads it. Landing paths hold no glob characters
    # (settings.py refuses them), so read_json reads exactly these files.
    value_column = VALUE_COLUMN[table.flow]
    value_position = table.header_positions[table.columns.index(value_column)] + 1
    cells = ", ".join(
        f"nullif(json[{value_position}], '')"
        if name == value_column
        else f"coalesce(json[{position + 1}], '')"
        for name, position in zip(table.columns, table.header_positions, strict=True)
    )
    columns = ", ".join(f'"{name}"' for name in table.columns)
    query = f"""
        INSERT INTO {target} ({columns}, year, _fetched_at, _landing_file, _content_sha256)
        SELECT {cells}, ?, ?::TIMESTAMP, ?, ?
        FROM read_json(?, format = 'array', records = false, columns = {{'json': 'VARCHAR[]'}})
        WHERE json[{value_position}] IS DISTINCT FROM ?
    """
    paths = [str(path) for path in files]
    params = [table.year, fetched_at, landing_file, table.content_hash, paths, value_column]
    try:
        inserted = con.execute(query, params).fetchall()[0][0]
    except duckdb.Error as exc:
        raise WarehouseError(
            f"DuckDB could not load {_named(files)}: {exc}. Nothing was loaded for {table.flow} "
            f"{table.year}; the rows stored before are unchanged."
        ) from None
    if inserted != table.row_count:
        raise WarehouseError(
            f"{_named(files)} gave {inserted} rows to DuckDB but {table.row_count} when "
            "validated; nothing was loaded. Remove the landing and its manifest, then fetch "
            "again (make run)."
        )


def _named(files: Sequence[Path]) -> str:
    return str(files[0]) if len(files) == 1 else f"{files[0].parent} ({len(files)} answers)"


def _make_current(con: duckdb.DuckDBPyConnection, table: CensusTable, landing_file: str) -> None:
    # The vintage's rows are in the history table by now; they keep its (first) fetch time.
    current = current_table(table.flow, table.dataset)
    con.execute(f"DELETE FROM {current} WHERE year = ?", [table.year])
    con.execute(f"INSERT INTO {current} VALUES (?, ?)", [table.year, landing_file])


def stored_row_count(
    con: duckdb.DuckDBPyConnection, flow: str, year: int, dataset: CensusDataset = HITECH
) -> int:
    """Rows currently stored for a partition in the raw table."""
    if not table_exists(con, raw_table(flow, dataset)):
        return 0
    query = f"SELECT count(*) FROM {raw_table(flow, dataset)} WHERE year = ?"
    return con.execute(query, [year]).fetchall()[0][0]


def stored_months(
    con: duckdb.DuckDBPyConnection, flow: str, year: int, dataset: CensusDataset = HITECH
) -> list[str]:
    """The months ('YYYY-MM') currently stored for a partition in the raw table."""
    if not table_exists(con, raw_table(flow, dataset)):
        return []
    query = f"SELECT DISTINCT time FROM {raw_table(flow, dataset)} WHERE year = ? ORDER BY 1"
    return [row[0] for row in con.execute(query, [year]).fetchall()]


def stored_vintages(
    con: duckdb.DuckDBPyConnection, flow: str, year: int, dataset: CensusDataset = HITECH
) -> set[str]:
    """The landed files of a partition already in the history table."""
    if not table_exists(con, history_table(flow, dataset)):
        return set()
    rows = con.execute(
        f"SELECT DISTINCT _landing_file FROM {history_table(flow, dataset)} WHERE year = ?", [year]
    ).fetchall()
    return {row[0] for row in rows}


def mart_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The tables of the marts schema, by name."""
    return [
        row[0]
        for row in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY table_name",
            [MARTS],
        ).fetchall()
    ]


def sql_string(text: str) -> str:
    """`text` inside a SQL string literal ('...'), for the statements that take no parameter
    (ATTACH, COPY)."""
    return text.replace("'", "''")


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether `table` (schema.name) is there, as a table or a view."""
    return _table_type(con, table) is not None
