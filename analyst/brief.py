"""`atp brief`: the story behind one partner's ATP numbers in one year, in words, from the
published marts only.

`load_brief` reads the mart rows behind every figure into a `Brief` (json gives them as the marts
hold them); `sentences` words them; markdown, json and the HTML page (analyst.html_report) render
the same words. The wording takes the partner's point of view throughout: for the imports flow
(U.S. general imports from the partner) the partner's ATP exports to the U.S., for the exports
flow its ATP imports from the U.S. Balances are the U.S.'s (exports minus imports) and say so.

No Dagster imports: `atp` has to start fast.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import duckdb

from analyst.formats import (
    Table,
    bn,
    fixed,
    json_value,
    money_words,
    pct,
    plural,
    render_markdown,
    source_line,
)
from analyst.queries import (
    PARTNER_ALIASES,
    AnalystError,
    Partner,
    check_flow,
    find_partner,
    publication,
    records,
    require_year,
)
from analyst.report_data import MONTHS
from ingest.partner_names import display_name
from ingest.warehouse import MARTS, mart_tables

ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")
ORDINALS += ("tenth",)
TOP = 5
# The marts a brief reads: the published copy must hold them all.
BRIEF_MARTS = (
    "fct_atp_partner_year",
    "fct_atp_grouping_year",
    "fct_us_atp_year",
    "fct_atp_partner_contribution_year",
    "fct_atp_partner_share_shift_year",
)


# -- the data -----------------------------------------------------------------------------------


@dataclass
class Brief:
    """The mart rows behind one brief, as the marts hold them (whole dollars, unrounded %)."""

    partner: Partner
    year: int
    flow: str  # 'imports' (the partner's ATP exports to the U.S.) or 'exports'
    months: int  # months covered by the year: 12, or fewer for a year in progress
    row: dict[str, Any]  # the partner's row of fct_atp_partner_year (fct_atp_grouping_year)
    ranking: list[dict[str, Any]]  # every ranked country of the year, by rank in the flow
    us: dict[str, Any]  # fct_us_atp_year
    drivers: list[dict[str, Any]]  # fct_atp_partner_contribution_year, largest effect first
    share_shift: dict[str, Any] | None  # fct_atp_partner_share_shift_year (countries only)
    published: dict[str, Any] = field(default_factory=dict)  # main.publication
    # fct_atp_product_year: the products that moved most (countries, when the copy has product
    # detail), largest change first
    products: list[dict[str, Any]] = field(default_factory=list)

    @property
    def other(self) -> str:
        return "exports" if self.flow == "imports" else "imports"

    @property
    def name(self) -> str:
        """The partner as a sentence names it: 'South Korea', not 'Korea, South'."""
        return everyday_name(self.partner.name)

    @property
    def who(self) -> str:
        """The partner inside a sentence: a country by name, a grouping as what it is ('the
        European Union', 'OECD countries', 'Asia'), never as if it were one country."""
        return self.name if self.ranked else grouping_words(self.partner)

    @property
    def ranked(self) -> bool:
        return self.partner.kind == "country"

    @property
    def table(self) -> str:
        return "fct_atp_partner_year" if self.ranked else "fct_atp_grouping_year"

    @property
    def top(self) -> list[dict[str, Any]]:
        return self.ranking[:TOP]

    def value(self, measure: str, flow: str | None = None) -> Any:
        """The partner's `atp_<flow>_<measure>` (the brief's flow unless given)."""
        return self.row.get(f"atp_{flow or self.flow}_{measure}")


def load_brief(con: duckdb.DuckDBPyConnection, text: str, year: int, flow: str) -> Brief:
    """The brief of the partner `text` (code or name, as `atp partner`) for `year` and `flow`."""
    check_flow(flow)
    partner = find_partner(con, text)
    months = require_year(con, year)
    if partner.kind == "grouping":
        table, key = "fct_atp_grouping_year", "grouping_code"
    else:
        table, key = "fct_atp_partner_year", "partner_code"
    rows = records(
        con.execute(
            f"SELECT * FROM {MARTS}.{table} WHERE {key} = ? AND year = ?", [partner.code, year]
        )
    )
    if not rows:
        years = [
            y
            for (y,) in con.execute(
                f"SELECT year FROM {MARTS}.{table} WHERE {key} = ? ORDER BY year", [partner.code]
            ).fetchall()
        ]
        held = f"years with trade: {', '.join(map(str, years))}" if years else "no year with trade"
        raise AnalystError(f"no ATP trade with {partner.label} recorded in {year} ({held}).")
    ranking = records(
        con.execute(
            f"SELECT * FROM {MARTS}.fct_atp_partner_year "
            f"WHERE year = ? AND atp_{flow}_rank IS NOT NULL "
            f"ORDER BY atp_{flow}_rank, partner_code",
            [year],
        )
    )
    us = records(con.execute(f"SELECT * FROM {MARTS}.fct_us_atp_year WHERE year = ?", [year]))[0]
    drivers, shift = [], None
    if partner.kind == "country":
        drivers = records(
            con.execute(
                f"SELECT * FROM {MARTS}.fct_atp_partner_contribution_year "
                "WHERE partner_code = ? AND year = ? "
                f"ORDER BY abs({flow}_contribution_pp) DESC NULLS LAST, hitech_code",
                [partner.code, year],
            )
        )
        shifts = records(
            con.execute(
                f"SELECT * FROM {MARTS}.fct_atp_partner_share_shift_year "
                "WHERE partner_code = ? AND year = ?",
                [partner.code, year],
            )
        )
        shift = shifts[0] if shifts else None
    products = _moved_products(con, partner, year, flow)
    return Brief(
        partner,
        year,
        flow,
        months,
        rows[0],
        ranking,
        us,
        drivers,
        shift,
        publication(con),
        products,
    )


PRODUCTS_SHOWN = 3


def _moved_products(con, partner: Partner, year: int, flow: str) -> list[dict[str, Any]]:
    """The products that moved most, when the copy has product detail for the partner."""
    if partner.kind != "country" or "fct_atp_product_year" not in mart_tables(con):
        return []
    return records(
        con.execute(
            f"SELECT * FROM {MARTS}.fct_atp_product_year "
            "WHERE partner_code = ? AND year = ? AND flow = ? AND change_usd IS NOT NULL "
            "ORDER BY abs(change_usd) DESC, commodity_code LIMIT ?",
            [partner.code, year, flow, PRODUCTS_SHOWN],
        )
    )


def largest_mover(con: duckdb.DuckDBPyConnection, year: int, flow: str = "imports", top: int = 10):
    """The partner code with the largest absolute change in the flow among the `top` ranked
    countries of `year` (None when none has a change)."""
    check_flow(flow)
    found = con.execute(
        f"""
        SELECT partner_code FROM (
            SELECT * FROM {MARTS}.fct_atp_partner_year
            WHERE year = ? AND atp_{flow}_rank IS NOT NULL
            ORDER BY atp_{flow}_rank, partner_code LIMIT ?
        )
        WHERE atp_{flow}_change_usd IS NOT NULL
        ORDER BY abs(atp_{flow}_change_usd) DESC, atp_{flow}_rank, partner_code
        LIMIT 1
        """,
        [year, top],
    ).fetchone()
    return found[0] if found else None


# -- words --------------------------------------------------------------------------------------


def period(year: int, months: int) -> str:
    """'2025' for a full year, 'January–September 2026' for a year in progress."""
    if months == 12:
        return str(year)
    if months == 1:
        return f"January {year}"
    return f"January–{MONTHS[months - 1]} {year}"


def money(value: float) -> str:
    """The one money formatter (`formats.money_words`): '$102.48 billion', '$4.00 million'."""
    return money_words(value)


def signed_money(value: float) -> str:
    """'+$24.00 billion', '-$36.00 billion', '-$2.00 million'."""
    return money_words(value, sign=True)


def points(value: float) -> str:
    """A contribution in points, signed: '+12.5', '-0.04' (a non-zero value never '+0.0')."""
    return fixed(value, 1, sign=True)


def percent(value: float, sign: bool = False) -> str:
    """'11.7', '+25.0', '0.03' (a non-zero value never '0.0')."""
    return fixed(value, 1, sign)


def article(number: str) -> str:
    """'a' or 'an' before a number as it is read: an 8..., an 11, an 18, an 80-89 (and an 11,000),
    a 1.5, a 110."""
    whole = re.sub(r"\D", "", number.lstrip("+-").split(".")[0]) or "0"
    lead = whole[: len(whole) % 3 or 3]  # 'eleven' thousand, 'eighteen' million
    return "an" if whole.startswith("8") or lead in ("11", "18") else "a"


def everyday_name(name: str) -> str:
    """A Census name as a sentence says it. An inverted name ('KOREA, SOUTH') takes its everyday
    form from PARTNER_ALIASES ('south korea') or, with none, is turned round ('Bahamas, The' ->
    'The Bahamas'); other names are their display form."""
    shown = display_name(name)
    if "," not in shown:
        return shown
    words = sorted(re.findall(r"\w+", name.lower()))
    for alias, census in PARTNER_ALIASES.items():
        if name.upper() in census and sorted(alias.split()) == words:
            return display_name(alias.upper())
    first, _, rest = shown.partition(", ")
    return f"{rest} {first}"


def grouping_words(partner: Partner) -> str:
    """A grouping inside a sentence: a region code (4XXX) as its name ('Asia'), an acronym as
    its countries ('OECD countries', 'USMCA (NAFTA) countries'), others with 'the' ('the
    European Union', 'the Pacific Rim Countries')."""
    name = display_name(partner.name)
    if re.fullmatch(r"\dXXX", partner.code):
        return name
    first = re.split(r"\W+", name)[0]
    if len(first) > 1 and first.isupper():
        return f"{name} countries"
    return f"the {name}"


def ordinal(n: int) -> str:
    if 1 <= n <= len(ORDINALS):
        return ORDINALS[n - 1]
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def growth(yoy: float | None) -> str:
    """A neighbour's growth in brackets: '+25.0%', 'unchanged' or 'no comparison'."""
    if yoy is None:
        return "no comparison"
    return "unchanged" if yoy == 0 else f"{percent(yoy, sign=True)}%"


def balance_words(balance: int | None) -> str:
    if balance is None:
        return "not available"
    if balance == 0:
        return "balanced"
    kind = "deficit" if balance < 0 else "surplus"
    return f"a {kind} of {money(abs(balance))}"


@dataclass
class Sentences:
    """The brief in words: one string per part, and the two tables."""

    title: str
    headline: str
    basis: str
    share: str | None
    other_direction: str
    goods: str
    us_totals: str
    drivers_heading: str
    drivers: str
    drivers_table: Table | None
    products_heading: str
    products: str | None  # None: the copy has no product detail for the partner
    products_table: Table | None
    top_heading: str
    top_table: Table
    footer: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "headline": self.headline,
            "basis": self.basis,
            "share": self.share,
            "other_direction": self.other_direction,
            "goods": self.goods,
            "us_totals": self.us_totals,
            "drivers": self.drivers,
            "products": self.products,
            "footer": self.footer,
        }


def sentences(b: Brief) -> Sentences:
    now, then = period(b.year, b.months), period(b.year - 1, b.months)
    return Sentences(
        title=f"{b.partner.label}: trade in advanced technology products with the U.S., {now}",
        headline=headline(b),
        basis=(
            f"Year over year compares the same months: {now} against {then}"
            + ("." if b.months == 12 else f" ({b.year} is in progress).")
        ),
        share=_share_sentence(b, now, then),
        other_direction=_other_direction(b),
        goods=_goods(b),
        us_totals=(
            f"U.S. ATP trade with all partners in {now}: imports {money(b.us['atp_imports_usd'])}, "
            f"exports {money(b.us['atp_exports_usd'])}, "
            f"{balance_words(b.us['atp_balance_usd'])}."
        ),
        drivers_heading="What drove the change",
        drivers=_drivers_sentence(b, then),
        drivers_table=_drivers_table(b, now),
        products_heading="Which products",
        products=_products_sentence(b),
        products_table=_products_table(b),
        top_heading=(
            f"Top {plural(len(b.top), 'ATP exporter')} to the U.S., {now}"
            if b.flow == "imports"
            else f"Top {plural(len(b.top), 'ATP importer')} from the U.S., {now}"
        ),
        top_table=_top_table(b),
        footer=footer(b),
    )


def subject(name: str, flow: str, grouping: bool = False) -> str:
    """The partner's side of a flow: imports (U.S. general imports from it) are its exports. A
    grouping (`name` as `grouping_words` gives it) is no one's: the exports come from it."""
    if grouping:
        if flow == "imports":
            return f"ATP exports to the U.S. from {name}"
        return f"ATP imports into {name} from the U.S."
    if flow == "imports":
        return f"{possessive(name)} ATP exports to the U.S."
    return f"{possessive(name)} ATP imports from the U.S."


def partner_subject(b: Brief, flow: str) -> str:
    return subject(b.who, flow, grouping=not b.ranked)


def movement(value: int | None, change: int | None, yoy: float | None, when: str, then: str) -> str:
    """'rose 25.0% (+$24.00 billion) in 2025 to $120.00 billion' and its variants (`when` may be
    empty)."""
    at = f" in {when}" if when else ""
    if value is None:
        return f"were not reported{at}"
    if yoy is None:
        return f"were {money(value)}{at} (no comparison with {then})"
    if yoy == 0 and not change:
        return f"were unchanged{at} at {money(value)}"
    verb = "rose" if yoy > 0 else "fell"
    dollars = f" ({signed_money(change)})" if change is not None else ""
    return f"{verb} {percent(abs(yoy))}%{dollars}{at} to {money(value)}"


def headline(b: Brief) -> str:
    """E.g. "Mexico's ATP exports to the U.S. rose 25.0% (+$24.00 billion) in 2025 to $120.00
    billion, a 30.6% share of the $392.40 billion U.S. market, ranking first, ahead of China
    ($108.00 billion, -25.0%)."."""
    now, then = period(b.year, b.months), period(b.year - 1, b.months)
    moved = movement(b.value("usd"), b.value("change_usd"), b.value("yoy_pct"), now, then)
    total = money(b.us[f"atp_{b.flow}_usd"])
    market = (
        f"the {total} U.S. market" if b.flow == "imports" else f"the {total} of U.S. ATP exports"
    )
    share = b.value("share_pct")
    shown = percent(share) if share is not None else ""
    shared = f", {article(shown)} {shown}% share of {market}" if share is not None else ""
    return f"{_capital(partner_subject(b, b.flow))} {moved}{shared}{_standing(b)}."


def _capital(text: str) -> str:
    """A sentence's first letter in capitals ('the European Union' -> 'The ...')."""
    return text[:1].upper() + text[1:]


def _neighbour(b: Brief, row: dict[str, Any]) -> str:
    value = row[f"atp_{b.flow}_usd"]
    return (
        f"{everyday_name(row['partner_name'])} ({money(value)}, "
        f"{growth(row[f'atp_{b.flow}_yoy_pct'])})"
    )


def _standing(b: Brief) -> str:
    """', ranking first, ahead of China (...)' / ', second only to ...' / ', ranking fourth,
    behind Taiwan (...), with Mexico (...) first'."""
    if not b.ranked:
        return " (a grouping of countries: not ranked)"
    rank = b.value("rank")
    codes = [r["partner_code"] for r in b.ranking]
    if rank is None or b.partner.code not in codes:
        return ""
    others = [r for r in b.ranking if r["partner_code"] != b.partner.code]
    if rank == 1:
        return (
            f", ranking first, ahead of {_neighbour(b, others[0])}" if others else ", ranking first"
        )
    at = codes.index(b.partner.code)
    above, leader = b.ranking[at - 1], b.ranking[0]
    if rank == 2:
        return f", second only to {_neighbour(b, leader)}"
    if above is leader:  # tied with others below the leader
        return f", ranking {ordinal(rank)}, behind {_neighbour(b, leader)}"
    return (
        f", ranking {ordinal(rank)}, behind {_neighbour(b, above)}, "
        f"with {_neighbour(b, leader)} first"
    )


def _share_sentence(b: Brief, now: str, then: str) -> str | None:
    if b.share_shift is None:
        return None
    market = "the U.S. market" if b.flow == "imports" else "U.S. ATP exports"
    current = b.share_shift[f"atp_{b.flow}_share_pct"]
    prior = b.share_shift[f"atp_{b.flow}_prior_share_pct"]
    shift = b.share_shift[f"atp_{b.flow}_share_shift_pp"]
    if current is None:
        return None
    if shift is None:
        return f"{possessive(b.name)} share of {market} was {percent(current)}% in {now} (no share in {then} to compare with)."
    if round(shift, 1) == 0:
        return f"{possessive(b.name)} share of {market} was unchanged at {percent(current)}% in {now} ({percent(prior)}% in {then})."
    verb = "rose" if shift > 0 else "fell"
    return (
        f"{possessive(b.name)} share of {market} {verb} {abs(shift):.1f} points, "
        f"from {percent(prior)}% in {then} to {percent(current)}% in {now}."
    )


def _other_direction(b: Brief) -> str:
    then = period(b.year - 1, b.months)
    o = b.other
    moved = movement(b.value("usd", o), b.value("change_usd", o), b.value("yoy_pct", o), "", then)
    return (
        f"{_capital(partner_subject(b, o))} {moved}; the U.S. ATP balance with {b.who} "
        f"(U.S. exports minus imports) was {balance_words(b.row['atp_balance_usd'])}."
    )


def _goods(b: Brief) -> str:
    trade, yoy = b.row.get("goods_trade_usd"), b.row.get("goods_trade_yoy_pct")
    then = period(b.year - 1, b.months)
    if trade is None:
        text = f"Total goods trade between the U.S. and {b.who} was not reported"
    else:
        change = (
            f"no comparison with {then}"
            if yoy is None
            else (
                "unchanged" if yoy == 0 else f"{'up' if yoy > 0 else 'down'} {percent(abs(yoy))}%"
            )
        )
        text = (
            f"Total goods trade between the U.S. and {b.who} came to {money(trade)} "
            f"(imports plus exports), {change}"
        )
    share = b.row.get("atp_share_of_goods_imports_pct")
    if share is not None:
        goods = (
            f"{possessive(b.who)} goods exports to the U.S."
            if b.ranked
            else f"goods exports from {b.who} to the U.S."
        )
        text += f"; ATP made up {percent(share)}% of {goods}"
    else:
        text += "."
    return text


def _drivers_sentence(b: Brief, then: str) -> str:
    if not b.ranked:
        return (
            "No breakdown by ATP group for a grouping: the marts keep ATP groups by country only."
        )
    yoy = b.value("yoy_pct")
    f = b.flow
    moved = [d for d in b.drivers if d[f"{f}_contribution_pp"] is not None]
    if yoy is None or not moved:
        return f"No breakdown of the change: no comparison with {then}."
    if yoy == 0:
        return f"Overall unchanged: {_listed(moved[:3], f)}."
    # The drivers of a rise are the groups that rose (of a fall, those that fell); the largest
    # group that went the other way is named apart, as what held the change back.
    along = [d for d in moved if (d[f"{f}_contribution_pp"] > 0) == (yoy > 0)]
    against = [d for d in moved if d not in along and d[f"{f}_contribution_pp"] != 0]
    lead = f"Of the {percent(abs(yoy))}% {'rise' if yoy > 0 else 'fall'},"
    text = f"{lead} {_listed(along[:3], f)}" if along else lead.rstrip(",")
    if against:
        d = against[0]
        text += (
            f"; partly offset by {d['category_name']} ({points(d[f'{f}_contribution_pp'])} "
            f"points, {signed_money(d[f'{f}_change_usd'])})"
        )
    return f"{text}."


def _listed(drivers: list[dict[str, Any]], f: str) -> str:
    """'A contributed +12.5 points (+$12.00 billion), B +5.0 points (...) and C ...'."""
    parts = [
        f"{d['category_name']} {'contributed ' if i == 0 else ''}"
        f"{points(d[f'{f}_contribution_pp'])} points ({signed_money(d[f'{f}_change_usd'])})"
        for i, d in enumerate(drivers)
    ]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _drivers_table(b: Brief, now: str) -> Table | None:
    f = b.flow
    rows = [d for d in b.drivers if d[f"{f}_contribution_pp"] is not None]
    if not rows:
        return None
    columns = ["hitech_code", "category_name", f"{f}_change_usd", f"{f}_contribution_pp"]
    columns += [f"{f}_yoy_pct", f"{f}_usd"]
    return Table(
        columns=columns,
        rows=[[d[c] for c in columns] for d in rows],
        headers=["Code", "ATP group", "Change $bn", "Points", "Group YoY %", f"{now} $bn"],
        display=[
            [
                d["hitech_code"],
                d["category_name"],
                bn(d[f"{f}_change_usd"], sign=True),
                points(d[f"{f}_contribution_pp"]),
                pct(d[f"{f}_yoy_pct"]),
                bn(d[f"{f}_usd"]),
            ]
            for d in rows
        ],
        left={0, 1},
        notes=[
            f"Points: the group's change / {subject(b.name, f)} in "
            f"{period(b.year - 1, b.months)}, x 100; they add up to its "
            f"{pct(b.value('yoy_pct'))}% YoY."
        ],
    )


def _products_sentence(b: Brief) -> str | None:
    """'The products that moved most: smartphones (8517130000) +$0.80 billion (+0.8 points),
    ...' from fct_atp_product_year, in the brief's flow."""
    if not b.products:
        return None
    listed = [
        f"{_product_name(p)} ({p['commodity_code']}, {p['atp_group_name']}) "
        f"{signed_money(p['change_usd'])}"
        + (
            f" ({points(p['contribution_pts'])} points)"
            if p["contribution_pts"] is not None
            else ""
        )
        for p in b.products
    ]
    joined = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " and " + listed[-1]
    noun = (
        "product that moved most" if len(listed) == 1 else f"{len(listed)} products that moved most"
    )
    return f"The {noun}, of the 10-digit codes on the {b.year} ATP list: {joined}."


def _product_name(p: dict[str, Any]) -> str:
    """Census's capitals read as a name in a sentence."""
    return (p["commodity_description"] or p["commodity_code"]).strip().lower()


def _products_table(b: Brief) -> Table | None:
    if not b.products:
        return None
    now = period(b.year, b.months)
    columns = ["commodity_code", "commodity_description", "atp_group_name", "change_usd"]
    columns += ["contribution_pts", "yoy_pct", "value_usd"]
    return Table(
        columns=columns,
        rows=[[p[c] for c in columns] for p in b.products],
        headers=["Code", "Product", "ATP group", "Change $bn", "Points", "YoY %", f"{now} $bn"],
        display=[
            [
                p["commodity_code"],
                p["commodity_description"],
                p["atp_group_name"],
                bn(p["change_usd"], sign=True),
                points(p["contribution_pts"]) if p["contribution_pts"] is not None else "-",
                pct(p["yoy_pct"]),
                bn(p["value_usd"]),
            ]
            for p in b.products
        ],
        left={0, 1, 2},
        notes=[f"All of them: `atp products {b.partner.code} --year {b.year} --flow {b.flow}`."],
    )


def _top_table(b: Brief) -> Table:
    f = b.flow
    columns = ["rank", "partner_code", "partner_name", f"atp_{f}_usd", f"atp_{f}_change_usd"]
    columns += [f"atp_{f}_yoy_pct", f"atp_{f}_share_pct"]
    top = [{**r, "rank": r[f"atp_{f}_rank"]} for r in b.top]
    return Table(
        columns=columns,
        rows=[[r.get(c) for c in columns] for r in top],
        headers=["Rank", "Partner", "ATP $bn", "Change $bn", "YoY %", "Share %"],
        display=[
            [
                str(r["rank"]),
                f"{display_name(r['partner_name'])} ({r['partner_code']})",
                bn(r[f"atp_{f}_usd"]),
                bn(r.get(f"atp_{f}_change_usd"), sign=True),
                pct(r[f"atp_{f}_yoy_pct"]),
                pct(r[f"atp_{f}_share_pct"], sign=False),
            ]
            for r in top
        ],
        left={1},
        empty="No country traded that year.",
    )


def data_through(b: Brief) -> str | None:
    newest = b.published.get("newest_month")
    if not newest:
        return None
    year, month = str(newest).split("-")[:2]
    return f"{MONTHS[int(month) - 1]} {year}"


def footer(b: Brief) -> list[str]:
    through = data_through(b)
    stamp = b.published.get("published_at")
    about = [f"data through {through}" if through else "data through: not recorded"]
    about.append(f"published {stamp:%Y-%m-%d %H:%M} UTC" if stamp else "publication not recorded")
    figures = (
        f"Figures from the published marts: the partner's ATP, share, rank, the other direction, "
        f"goods and the top {TOP}: marts.{b.table}"
        + (" (and marts.fct_atp_partner_year for the ranking)" if not b.ranked else "")
        + "; U.S. totals: marts.fct_us_atp_year"
    )
    if b.ranked:
        figures += (
            "; share shift: marts.fct_atp_partner_share_shift_year; what drove the change: "
            "marts.fct_atp_partner_contribution_year"
        )
    if b.products:
        figures += "; which products: marts.fct_atp_product_year"
    return [
        source_line(b.published),
        f"{about[0][0].upper()}{about[0][1:]}; {about[1]}.",
        figures + ".",
    ]


# -- formats ------------------------------------------------------------------------------------


def render_markdown_brief(b: Brief) -> str:
    s = sentences(b)
    facts = [s.basis, s.share, s.other_direction, s.goods, s.us_totals]
    parts = [f"## {s.title}", "", s.headline, ""]
    parts += [f"- {fact}" for fact in facts if fact]
    parts += ["", f"### {s.drivers_heading}", "", s.drivers]
    if s.drivers_table is not None:
        parts += ["", render_markdown(s.drivers_table)]
    if s.products is not None:
        parts += ["", f"### {s.products_heading}", "", s.products]
        parts += ["", render_markdown(s.products_table)]
    parts += ["", f"### {s.top_heading}", "", render_markdown(s.top_table)]
    parts += ["", "---", ""]
    parts += [f"{line}  " for line in s.footer[:-1]] + [s.footer[-1]]
    return "\n".join(parts)


def brief_document(b: Brief) -> dict[str, Any]:
    """The brief as one JSON document: the words, then every mart row behind them."""
    return json_value(
        {
            "partner": {
                "partner_code": b.partner.code,
                "partner_name": display_name(b.partner.name),
                "partner_kind": b.partner.kind,
            },
            "year": b.year,
            "flow": b.flow,
            "months_covered": b.months,
            "period": period(b.year, b.months),
            "compared_with": period(b.year - 1, b.months),
            "text": sentences(b).as_dict(),
            "partner_year": b.row,
            "share_shift": b.share_shift,
            "top": b.top,
            "us_total": b.us,
            "drivers": b.drivers,
            "products": b.products,
            "data_through": b.published.get("newest_month"),
            "published_at": b.published.get("published_at"),
            "source": source_line(b.published),
            "marts": {
                "partner_year": f"marts.{b.table}",
                "top": "marts.fct_atp_partner_year",
                "us_total": "marts.fct_us_atp_year",
                "share_shift": "marts.fct_atp_partner_share_shift_year" if b.ranked else None,
                "drivers": "marts.fct_atp_partner_contribution_year" if b.ranked else None,
                "products": "marts.fct_atp_product_year" if b.products else None,
            },
        }
    )
