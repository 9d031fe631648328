"""`atp products`: which 10-digit products drove a partner's ATP trade with the U.S. in a year,
from marts.fct_atp_product_year (the year's own ATP code list, the same months of the year
before for a year in progress)."""

from __future__ import annotations

import argparse
from typing import Any

import duckdb

from analyst.formats import Table, money, money_unit, pct, period_and_basis, render_tables
from analyst.queries import (
    AnalystError,
    find_category,
    find_partner,
    open_published,
    records,
    require_year,
    source_of,
)
from analyst.report_data import latest_full_year
from ingest.partner_names import display_name
from ingest.settings import Settings
from ingest.warehouse import MARTS

PRODUCT_MARTS = ("fct_atp_product_year", "dim_partner", "dim_atp_category")
ORDER = {
    "change": "abs(change_usd) DESC NULLS LAST, value_usd DESC",
    "value": "value_usd DESC, abs(change_usd) DESC NULLS LAST",
}
# What the JSON document gives of each product (the contract), beside the table's columns.
JSON_FIELDS = (
    "commodity_code",
    "description",
    "atp_group_code",
    "value_usd",
    "change_usd",
    "yoy_pct",
    "contribution_pts",
)


def products(args: argparse.Namespace, settings: Settings) -> str:
    with open_published(settings.published, required=PRODUCT_MARTS) as con:
        partner = find_partner(con, " ".join(args.partner))
        if partner.kind != "country":
            raise AnalystError(
                f"{partner.label} is a grouping: product detail is by country (try one of its "
                "members, e.g. `atp products mexico`)."
            )
        year = args.year if args.year is not None else _latest_full_year(con)
        months = require_year(con, year)
        group = find_category(con, args.group) if args.group else None
        rows = _product_rows(con, partner.code, year, args.flow, group, args.top, args.by)
        total = _partner_total(con, partner.code, year, args.flow)
        source = source_of(con)
    table = _table(display_name(partner.name), partner.code, year, months, args, group, rows)
    table.notes += _notes(rows, total, args.flow, months, year) + [source]
    document = {
        "partner": {"partner_code": partner.code, "partner_name": display_name(partner.name)},
        "year": year,
        "flow": args.flow,
        "months_covered": months,
        "atp_group_code": group.code if group else None,
        "by": args.by,
        "products": [
            {"rank": n, **{field: row[_column(field)] for field in JSON_FIELDS}}
            for n, row in enumerate(rows, 1)
        ],
        "source": source,
    }
    return render_tables([table], args.format, document)


def _latest_full_year(con: duckdb.DuckDBPyConnection) -> int:
    latest = latest_full_year(con)
    if latest is None:
        raise AnalystError("no full calendar year is loaded yet: give --year.")
    return latest


def _column(field: str) -> str:
    return "commodity_description" if field == "description" else field


def _product_rows(con, partner_code, year, flow, group, top, by) -> list[dict[str, Any]]:
    where = "partner_code = ? AND year = ? AND flow = ?"
    params: list[Any] = [partner_code, year, flow]
    if group is not None:
        where += " AND atp_group_code = ?"
        params.append(group.code)
    return records(
        con.execute(
            f"SELECT commodity_code, commodity_description, atp_group_code, atp_group_name, "
            f"value_usd, prior_value_usd, change_usd, yoy_pct, contribution_pts "
            f"FROM {MARTS}.fct_atp_product_year WHERE {where} "
            f"AND (value_usd <> 0 OR change_usd <> 0) ORDER BY {ORDER[by]}, commodity_code LIMIT ?",
            [*params, top],
        )
    )


def _partner_total(con, partner_code, year, flow) -> dict[str, Any]:
    """The partner's products in the flow and year, all of them: their value and change."""
    rows = records(
        con.execute(
            f"SELECT count(*) FILTER (WHERE value_usd <> 0) AS products, sum(value_usd) AS value_usd, "
            f"sum(change_usd) AS change_usd, count(change_usd) AS with_base "
            f"FROM {MARTS}.fct_atp_product_year WHERE partner_code = ? AND year = ? AND flow = ?",
            [partner_code, year, flow],
        )
    )
    return rows[0]


def _table(name, code, year, months, args, group, rows) -> Table:
    unit = money_unit([r["value_usd"] for r in rows] + [r["change_usd"] for r in rows])
    period, basis = period_and_basis(year, months)
    direction = "imports from" if args.flow == "imports" else "exports to"
    what = f"{group.name} products" if group else "ATP products"
    ordered = "largest change first" if args.by == "change" else "largest value first"
    return Table(
        columns=[
            "rank",
            "commodity_code",
            "commodity_description",
            "atp_group_code",
            "atp_group_name",
            "value_usd",
            "change_usd",
            "yoy_pct",
            "contribution_pts",
        ],
        rows=[
            [
                n,
                r["commodity_code"],
                r["commodity_description"],
                r["atp_group_code"],
                r["atp_group_name"],
                r["value_usd"],
                r["change_usd"],
                r["yoy_pct"],
                r["contribution_pts"],
            ]
            for n, r in enumerate(rows, 1)
        ],
        title=f"{what} in U.S. {direction} {name} ({code}), {year}{period} ({basis}; {ordered})",
        headers=[
            "Rank",
            "Code",
            "Product",
            "ATP group",
            f"Value {unit.label}",
            f"Change {unit.label}",
            "YoY %",
            "Points",
        ],
        display=[
            [
                str(n),
                r["commodity_code"],
                _short(r["commodity_description"]),
                r["atp_group_name"] or r["atp_group_code"],
                money(r["value_usd"], unit),
                money(r["change_usd"], unit, sign=True),
                pct(r["yoy_pct"]),
                pct(r["contribution_pts"]),
            ]
            for n, r in enumerate(rows, 1)
        ],
        left={1, 2, 3},
        empty=f"No {what} traded with {name} in {year}.",
    )


def _notes(rows, total, flow, months, year) -> list[str]:
    notes = [
        "Points = the product's change as points of the partner's ATP "
        f"{flow} the year before: the points of all its products add up to its ATP YoY %."
    ]
    if months < 12:
        notes.append(f"{year} is in progress: the same {months} months of {year - 1} are the base.")
    if total["products"] and total["value_usd"]:
        shown = sum(r["value_usd"] for r in rows)
        share = shown * 100 / total["value_usd"]
        notes.append(
            f"The {len(rows)} product(s) shown: {share:.1f}% of the partner's "
            f"{total['products']} ATP products by value."
        )
    return notes


def _short(text: str | None, limit: int = 48) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
