"""The HTML report: one self-contained page (inline CSS and SVG, no scripts, no network) with the
top partners table, the story and the charts of one period, all read from the published marts.
The period is one year: the latest full year unless `--year` picks another; every part of the
page speaks of it (the charts over time end with it), and the page says which it is.

`report_data` gets the numbers, `charts` draws them; this module only puts the page together and
writes it atomically, so a reader (or a web server) never sees half a file.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from analyst import charts
from analyst import report_data as rd
from analyst.brief import (
    BRIEF_MARTS,
    Brief,
    Sentences,
    largest_mover,
    load_brief,
    period,
    points,
    possessive,
    sentences,
    signed_money,
)
from analyst.formats import (
    Table,
    Unit,
    fixed,
    is_census,
    money_unit,
    plural,
    source_line,
)
from analyst.queries import (
    AnalystError,
    loaded_years,
    open_published,
    partner_years,
    publication,
    require_year,
)
from ingest.files import write_atomic
from ingest.partner_names import display_name
from ingest.warehouse import mart_tables

PAGE_TITLE = "U.S. trade in advanced technology products"
TOP, TOP_MIX = 10, 5
# Prior period light, current period strong: the eye lands on the current year.
YTD_COLORS = charts.PERIOD_COLORS


def write_html_report(published: Path, out_dir: Path, year: int | None = None) -> Path:
    """Read the published DuckDB copy (read-only) and write `out_dir/index.html` for `year` (the
    latest full year unless given); returns the path."""
    with open_published(published, required=rd.MARTS_READ) as con:
        page = render(con, year)
    target = out_dir / "index.html"
    write_atomic(target, page)
    return target


def render(con: duckdb.DuckDBPyConnection, year: int | None = None) -> str:
    """The whole page of `year` (default: the latest full year, as `atp brief`) as a string."""
    through = rd.data_through_label(con)
    published = publication(con)
    source = source_line(published)
    footer = (f"Data through {through}.", source)
    if year is None:
        year = rd.latest_full_year(con)
    sections, heading = [], PAGE_TITLE
    if year is None:
        sections.append(
            '<p class="empty">No full calendar year is loaded yet: atp html --year YEAR shows '
            "a year in progress.</p>"
        )
    else:
        months = require_year(con, year)  # a year not loaded: the usual one-line error
        when = period(year, months)
        heading = f"{PAGE_TITLE}, {when}"
        table = rd.top_partners(con, year, "imports", TOP)
        history = rd.top_sources_history(con, year, TOP)
        shares = rd.import_shares(con, year)
        # A partner keeps its colour in every chart, and only the partners a chart singles out
        # have one: the highlighted lines first, then the shares chart's other partners.
        colors = _partner_colors([*history["highlight"], *(s["code"] for s in shares["series"])])
        sections += [
            _period_note(con, year, months),
            _table(table, footer),
            _story(con, year, months),
            # No full year up to the page's year (only a year in progress): nothing to draw.
            _history_chart(history, when, colors, footer) if history["years"] else "",
            _shares_chart(shares, colors, footer),
            _mix_chart(rd.group_mix(con, year, TOP_MIX), when, footer),
            _balance_chart(table, when, footer),
        ]
        if months < 12:  # a year in progress: its months against the same months before
            sections.append(_ytd_chart(rd.year_to_date(con, year, TOP), footer))
    published_at = rd.published_at(con)
    stamp = f" · published {published_at}" if published_at else ""
    return _PAGE.format(
        title=charts.esc(f"{heading} (data through {through})"),
        banner=_banner(published),
        heading=charts.esc(heading),
        meta=charts.esc(f"Data through {through}{stamp}."),
        css=_CSS + _BRIEF_CSS,
        body="\n".join(section for section in sections if section),
        source=charts.esc(source),
    )


def _period_note(con: duckdb.DuckDBPyConnection, year: int, months: int) -> str:
    """The line above the table that names the page's one period, and the newer years loaded."""
    when, before = period(year, months), period(year - 1, months)
    if months < 12:
        what = f"{when}, the year so far"
    elif year == rd.latest_full_year(con):
        what = f"{when}, the latest full year"
    else:
        what = when
    newer = [(y, m) for y, m in loaded_years(con).items() if y > year]
    also = ""
    if len(newer) == 1:
        also = f" Also loaded: {period(*newer[0])} (atp html --year {newer[0][0]})."
    elif newer:
        also = f" Also loaded: {newer[0][0]} through {period(*newer[-1])} (atp html --year YEAR)."
    return (
        f'<p class="period">This page is about <strong>{charts.esc(what)}</strong>, against '
        f"{charts.esc(before)}: every table and chart (the charts over time end with it)."
        f"{charts.esc(also)}</p>"
    )


def _banner(published: dict) -> str:
    """A banner above everything when the numbers are not the Census Bureau's (demo data, or
    another API): the same words as the source line."""
    if is_census(published):
        return ""
    return f'<p class="banner" role="note">{charts.esc(source_line(published))}</p>'


def _partner_colors(codes) -> dict:
    """{partner code: colour} for the partners the charts single out, in order of first
    appearance (None, the rest of the world, has none)."""
    colors: dict = {}
    for code in codes:
        if code is not None and code not in colors and len(colors) < len(charts.PARTNER_COLORS):
            colors[code] = charts.PARTNER_COLORS[len(colors)]
    return colors


def _table(data: rd.TopPartners, footer) -> str:
    everyone = [*data.partners, data.us_total]
    columns = ("atp_imports_usd", "atp_imports_change_usd", "atp_balance_usd")
    unit = money_unit(row[c] for row in everyone for c in columns)
    short = unit.label.replace("$", "$ ")
    head = ("Rank", "Partner", "ATP imports", "Change", "YoY", "Share", "Balance")
    units = ("", "", short, short, "%", "%", short)
    rows = [
        _row(str(p["rank"]), display_name(p["partner_name"]), _imports_values(p, unit))
        for p in data.partners
    ]
    total = _row("", data.us_total["partner_name"], _imports_values(data.us_total, unit))
    header = "".join(
        f'<th scope="col">{charts.esc(h)}<span class="unit">{charts.esc(u)}</span></th>'
        for h, u in zip(head, units, strict=True)
    )
    when, before = (
        period(data.year, data.months_covered),
        period(data.year - 1, data.months_covered),
    )
    notes = (
        f"Change and YoY: against {before}. Share: of U.S. ATP imports from all partners. "
        "Balance: U.S. ATP exports minus imports (negative = U.S. deficit). n/a: nothing to "
        f"compare with in {before} (no trade, or the year is not loaded).",
        *footer,
    )
    return (
        '<section id="top-partners"><table class="partners">'
        '<caption><span class="chart-title">'
        f"Top {plural(len(data.partners), 'source')} of U.S. ATP imports, {when}</span>"
        f'<span class="chart-units">{unit.words} and %, U.S. general imports of advanced '
        "technology products</span></caption>"
        f"<thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody>"
        f'<tfoot>{total}</tfoot></table><div class="table-footer">'
        + "".join(f"<p>{charts.esc(line)}</p>" for line in notes)
        + "</div></section>"
    )


def _imports_values(row: dict, unit: Unit) -> tuple:
    """A top-partners row's imports figures as the table shows them (in `unit`, and %)."""

    def scaled(value):
        return None if value is None else value / unit.divisor

    return (
        scaled(row["atp_imports_usd"]),
        scaled(row["atp_imports_change_usd"]),
        row["atp_imports_yoy_pct"],
        row["atp_imports_share_pct"],
        scaled(row["atp_balance_usd"]),
    )


def _bn(value: int | None) -> float | None:
    return None if value is None else value / rd.B


def _row(rank: str, name: str, values) -> str:
    imports, change, yoy, share, balance = values
    cells = [
        _num(imports),
        _num(change, sign=True),
        _num(yoy, sign=True),
        _num(share),
        _num(balance, sign=True, negative_class=True),
    ]
    return f'<tr><td class="num">{rank}</td><th scope="row">{charts.esc(name)}</th>{"".join(cells)}</tr>'


def _num(value: float | None, sign: bool = False, negative_class: bool = False) -> str:
    """One decimal (more for a small non-zero value: never 0.0 for it), a real minus sign."""
    if value is None:
        return '<td class="num na">n/a</td>'
    css = "num deficit" if negative_class and value < 0 else "num"
    return f'<td class="{css}">{charts.esc(fixed(value, 1, sign).replace("-", "−"))}</td>'


def _history_chart(data: dict, when: str, colors: dict, footer) -> str:
    years, series = data["years"], data["series"]
    highlighted = [s for s in series if s["code"] in data["highlight"]]
    others = [s["name"] for s in series if s["code"] not in data["highlight"]]
    notes = []
    mover = data["mover"]
    if mover:  # its move is between the last two full years drawn
        change = fixed(mover["change_bn"], 1, sign=True).replace("-", "−")
        notes.append(
            f"In colour: the top {min(3, len(series))} and the biggest mover of the others in "
            f"{years[-1]}, {mover['name']} ({change} bn against {years[-2]})."
        )
    if others:
        notes.append(f"In grey: {plural(len(others), 'other source')}: {'; '.join(others)}.")
    if data["left_out"]:
        partial, months = data["left_out"]
        notes.append(
            f"{partial} is left out: it covers {rd.month_span(months)} only, and a part-year total "
            "would read as a fall. The year-to-date chart compares it with the same months."
        )
    frame = charts.Frame(
        "chart-history",
        f"U.S. ATP imports from the top {plural(len(series), 'source')} of {when}, "
        + (f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])),
        "$ billions per calendar year, U.S. general imports of advanced technology products",
        (*notes, *footer),
    )
    svg = charts.highlight_line_chart(
        frame,
        [str(y) for y in years],
        [(s["name"], s["values"]) for s in series],
        {s["name"]: colors[s["code"]] for s in highlighted if s["code"] in colors},
    )
    return _figure(svg)


def _shares_chart(data: dict, colors: dict, footer) -> str:
    labels = [
        str(y) if m == 12 else f"{y}\n{rd.month_span(m)}"
        for y, m in zip(data["years"], data["months"], strict=True)
    ]
    partial = [
        f"{y}: {rd.month_span(m)} only, as a share of the U.S. total for the same months."
        for y, m in zip(data["years"], data["months"], strict=True)
        if m < 12
    ]
    leaders = [s for s in data["series"] if s["code"] is not None]
    latest, months = data["years"][-1], data["months"][-1]
    when = str(latest) if months == 12 else f"{rd.month_span(months)} {latest}"
    top = "largest source" if len(leaders) == 1 else f"{len(leaders)} largest sources"
    frame = charts.Frame(
        "chart-shares",
        f"Shares of U.S. ATP imports: the {top} of {when} and the rest",
        "% of U.S. ATP imports from all partners, stacked to 100%",
        (*partial, *footer),
    )
    svg = charts.stacked_area_chart(
        frame,
        labels,
        [(s["name"], s["values"]) for s in data["series"]],
        colors=[colors.get(s["code"], charts.NEUTRAL) for s in data["series"]],
        fmt=lambda v: f"{fixed(v, 1)}%",
    )
    return _figure(svg)


def _mix_chart(data: dict, when: str, footer) -> str:
    """The top partners' ATP group mix as a grid of shares: one column per partner (its total
    under the name), one row per group any of them trades, largest first; no legend to match."""
    partners = data["partners"]
    groups = [
        (i, g)
        for i, g in enumerate(data["groups"])
        if any(p["values_bn"][i] or p["shares_pct"][i] for p in partners)
    ]
    groups.sort(key=lambda ig: -sum(p["values_bn"][ig[0]] or 0 for p in partners))
    absent = [g["name"] for g in data["groups"] if g not in [g for _, g in groups]]
    notes = [f"No ATP imports from these partners in {', '.join(absent)}."] if absent else []
    frame = charts.Frame(
        "chart-mix",
        f"ATP imports by technology group, top {plural(len(partners), 'source')}, {when}",
        "% of each partner's ATP imports (darker = larger share); under each name its ATP "
        "imports in $ billions",
        (*notes, *footer),
    )
    svg = charts.heat_grid(
        frame,
        [g["name"] for _, g in groups],
        [p["name"] for p in partners],
        [[p["shares_pct"][i] or 0.0 for p in partners] for i, _ in groups],
        column_notes=[f"{fixed(p['total_bn'], 1)} bn" for p in partners],
        tooltips=[
            [
                f"{p['name']}, {g['name']}: {fixed(p['values_bn'][i], 2)} bn "
                f"({fixed(p['shares_pct'][i] or 0.0, 1)}% of its ATP imports)"
                for p in partners
            ]
            for i, g in groups
        ],
    )
    return _figure(svg)


def _balance_chart(data: rd.TopPartners, when: str, footer) -> str:
    partners = data.partners
    frame = charts.Frame(
        "chart-balance",
        f"U.S. ATP trade balance with the top {plural(len(partners), 'source')} of ATP imports, "
        f"{when}",
        "$ billions, U.S. ATP exports minus imports (negative = U.S. deficit)",
        footer,
    )
    svg = charts.bar_chart(
        frame,
        [display_name(p["partner_name"]) for p in partners],
        [_bn(p["atp_balance_usd"]) for p in partners],
        fmt=lambda v: fixed(v, 1, sign=True).replace("-", "−"),
        negative="U.S. deficit",
        positive="U.S. surplus",
    )
    return _figure(svg)


def _ytd_chart(data: dict, footer) -> str:
    year, span, us = data["year"], rd.month_span(data["months"]), data["us"]
    total = f"all partners {charts.one_decimal(us['current_bn'])}"
    if us["prior_bn"] is not None:
        total += f" vs {charts.one_decimal(us['prior_bn'])} ({_pct(us['yoy_pct'])})"
    frame = charts.Frame(
        "chart-ytd",
        f"Year to date: {data['label']}",
        f"$ billions, U.S. ATP imports from the top {plural(len(data['partners']), 'source')} "
        f"of {year}; " + total,
        footer,
    )
    partners = data["partners"]
    svg = charts.grouped_bar_chart(
        frame,
        [p["name"] for p in partners],
        [
            (f"{span} {year - 1}", [p["prior_bn"] for p in partners]),
            (f"{span} {year}", [p["current_bn"] for p in partners]),
        ],
        colors=YTD_COLORS,
        notes=[_pct(p["yoy_pct"]) for p in partners],
        notes_heading="change",
    )
    return _figure(svg)


def _figure(svg: str) -> str:
    return f'<section><figure class="chart">{svg}</figure></section>'


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{fixed(value, 1, sign=True)}%".replace("-", "−")


# -- the story panel and one partner's brief page -----------------------------------------------


def _story(con: duckdb.DuckDBPyConnection, year: int, months: int) -> str:
    """The page year's largest mover among the top partners (the largest change in dollars,
    either way): the brief's headline and what drove it. Nothing when the published copy
    predates the brief's marts or no top partner has a change."""
    if not set(BRIEF_MARTS) <= set(mart_tables(con)):
        return ""
    code = largest_mover(con, year, "imports", TOP)
    if code is None:
        return ""
    brief = load_brief(con, code, year, "imports")
    words = sentences(brief)
    drivers = [d for d in brief.drivers if d["imports_contribution_pp"] is not None][:5]
    items = "".join(
        f"<li>{charts.esc(d['category_name'])}: "
        f"{charts.esc(_points(d['imports_contribution_pp']))} "
        f"({charts.esc(_minus(signed_money(d['imports_change_usd'])))})</li>"
        for d in drivers
    )
    when, before = period(year, months), period(year - 1, months)
    notes = (
        f"The largest change in dollars, up or down, among the top sources of {when} in the "
        f"table above, against {before}. Points: each ATP group's change as a share of "
        f"{possessive(brief.name)} ATP exports to the U.S. in {before}; they add up to its YoY "
        f"%. The whole brief: atp brief {brief.partner.code} --year {year}.",
        "From marts.fct_atp_partner_year and marts.fct_atp_partner_contribution_year.",
    )
    return (
        '<section id="story" class="story">'
        f"<h2>The story of {charts.esc(when)}: {charts.esc(brief.name)}</h2>"
        f'<p class="headline">{charts.esc(words.headline)}</p>'
        f"<p>{charts.esc(words.drivers)}</p>"
        + (f'<ol class="drivers">{items}</ol>' if items else "")
        + '<div class="table-footer">'
        + "".join(f"<p>{charts.esc(line)}</p>" for line in notes)
        + "</div></section>"
    )


def write_partner_page(
    published: Path, out_dir: Path, partner: str, year: int | None = None, flow: str = "imports"
) -> Path:
    """Write `out_dir/brief-<code>-<year>-<flow>.html`: one partner's brief with its charts
    (year: the latest full year unless given); returns the path."""
    with open_published(published, required=(*rd.MARTS_READ, *BRIEF_MARTS)) as con:
        if year is None:
            year = rd.latest_full_year(con)
            if year is None:
                raise AnalystError("no full calendar year is loaded yet: give --year.")
        brief = load_brief(con, partner, year, flow)
        page = render_partner_page(con, brief)
    target = out_dir / f"brief-{brief.partner.code}-{brief.year}-{brief.flow}.html"
    write_atomic(target, page)
    return target


def render_partner_page(con: duckdb.DuckDBPyConnection, brief: Brief) -> str:
    """One partner's brief as a self-contained page: the words, what drove the change, its
    series, its group mix and the top partners of the year."""
    words = sentences(brief)
    through = rd.data_through_label(con)
    published = publication(con)
    source = source_line(published)
    footer = (f"Data through {through}.", source)
    sections = [_brief_words(words)]
    if brief.ranked:
        sections.append(_drivers_section(brief, words, footer))
        if words.products is not None:
            sections.append(_products_section(brief, words, footer))
        if "fct_atp_partner_t12m" in mart_tables(con):
            sections.append(_t12m_chart(brief, rd.partner_t12m(con, brief.partner.code), footer))
        mix = rd.partner_group_mix(con, brief.partner.code, brief.year)
        sections.append(_partner_mix_chart(brief, mix, footer))
    else:
        sections.append(
            '<section class="brief"><h2>What drove the change</h2>'
            f"<p>{charts.esc(words.drivers)}</p></section>"
        )
        sections.append(_annual_chart(brief, partner_years(con, brief.partner), footer))
    sections.append(
        f'<section class="brief"><h2>{charts.esc(words.top_heading)}</h2>'
        f"{_html_table(words.top_table)}</section>"
    )
    published_at = rd.published_at(con)
    stamp = f" · published {published_at}" if published_at else ""
    return _PAGE.format(
        title=charts.esc(words.title),
        banner=_banner(published),
        heading=charts.esc(words.title),
        meta=charts.esc(f"Data through {through}{stamp}."),
        css=_CSS + _BRIEF_CSS,
        body="\n".join(sections),
        source="</p><p>".join(charts.esc(line) for line in words.footer),
    )


def _brief_words(words: Sentences) -> str:
    facts = [words.basis, words.share, words.other_direction, words.goods, words.us_totals]
    return (
        '<section class="brief">'
        f'<p class="headline">{charts.esc(words.headline)}</p><ul>'
        + "".join(f"<li>{charts.esc(fact)}</li>" for fact in facts if fact)
        + "</ul></section>"
    )


def _drivers_section(brief: Brief, words: Sentences, footer) -> str:
    f = brief.flow
    rows = [d for d in brief.drivers if d[f"{f}_contribution_pp"] is not None]
    parts = [
        f'<section class="brief"><h2>{charts.esc(words.drivers_heading)}</h2>'
        f"<p>{charts.esc(words.drivers)}</p>"
    ]
    if words.drivers_table is not None:
        parts.append(_html_table(words.drivers_table))
    parts.append("</section>")
    if rows:
        side = "exports to the U.S." if f == "imports" else "imports from the U.S."
        now = period(brief.year, brief.months)
        frame = charts.Frame(
            "chart-contributions",
            f"What drove {possessive(brief.name)} ATP {side}, {now}",
            f"percentage points of the {_pct(brief.value('yoy_pct'))} change against "
            f"{period(brief.year - 1, brief.months)}, by ATP group (they add up to it)",
            footer,
        )
        svg = charts.bar_chart(
            frame,
            [d["category_name"] for d in rows],
            [d[f"{f}_contribution_pp"] for d in rows],
            fmt=_points,
            negative="Pulled down",
            positive="Pushed up",
        )
        parts.append(_figure(svg))
    return "".join(parts)


def _products_section(brief: Brief, words: Sentences, footer) -> str:
    """Which products moved most: the sentence, the table and their changes as bars, each bar
    labelled with its product (no legend to look up)."""
    parts = [
        f'<section class="brief"><h2>{charts.esc(words.products_heading)}</h2>'
        f"<p>{charts.esc(words.products)}</p>",
        _html_table(words.products_table),
        "</section>",
    ]
    side = "exports to the U.S." if brief.flow == "imports" else "imports from the U.S."
    frame = charts.Frame(
        "chart-products",
        f"The products that moved {possessive(brief.name)} ATP {side} most, "
        f"{period(brief.year, brief.months)}",
        f"change in $ billions against {period(brief.year - 1, brief.months)}, by 10-digit code",
        footer,
    )
    svg = charts.bar_chart(
        frame,
        # Sentence case: Census's capitals run wider than the label room measured for them.
        [
            _short((p["commodity_description"] or p["commodity_code"]).capitalize())
            for p in brief.products
        ],
        [p["change_usd"] / 1e9 for p in brief.products],
        fmt=lambda v: f"{v:+.2f}",
        negative="Fell",
        positive="Rose",
    )
    parts.append(_figure(svg))
    return "".join(parts)


def _short(text: str | None, limit: int = 32) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _t12m_chart(brief: Brief, data: dict, footer) -> str:
    frame = charts.Frame(
        "chart-t12m",
        f"{possessive(brief.name)} ATP trade with the U.S. over the trailing 12 months",
        # One line of SVG text (it does not wrap): keep it short.
        "$ billions, the 12 months up to each month (once 12 are loaded)"
        + (f"; at the right end: to {data['labels'][-1]}" if data["labels"] else ""),
        footer,
    )
    flows = [
        ("Exports to the U.S.", data["imports_bn"]),
        ("Imports from the U.S.", data["exports_bn"]),
    ]
    # A point a month would read as beads: plain lines, a tick each January, named at the end.
    svg = charts.highlight_line_chart(
        frame,
        data["labels"],
        flows,
        {name: charts.PALETTE[i] for i, (name, _) in enumerate(flows)},
        markers=False,
        ticks={i: str(m.year) for i, m in enumerate(data["months"]) if m.month == 1},
    )
    return _figure(svg)


def _partner_mix_chart(brief: Brief, data: dict, footer) -> str:
    """The partner's two flows by ATP group as a grid of shares (one colour ramp, as the main
    report's group mix: the page's other charts keep their colours to themselves)."""
    flows = [
        ("Exports to the U.S.", data["imports_bn"]),
        ("Imports from the U.S.", data["exports_bn"]),
    ]
    totals = [sum(v or 0 for v in values) for _, values in flows]
    rows = [i for i in range(len(data["groups"])) if any(values[i] for _, values in flows)]
    rows.sort(key=lambda i: -sum(values[i] or 0 for _, values in flows))
    frame = charts.Frame(
        "chart-partner-mix",
        f"{possessive(brief.name)} ATP trade with the U.S. by technology group, "
        f"{period(brief.year, brief.months)}",
        "% of each flow (darker = larger share); under each flow its total in $ billions",
        footer,
    )
    svg = charts.heat_grid(
        frame,
        [data["groups"][i]["name"] for i in rows],
        [name for name, _ in flows],
        [
            [
                100 * (values[i] or 0) / total if total else 0.0
                for (_, values), total in zip(flows, totals, strict=True)
            ]
            for i in rows
        ],
        column_notes=[f"{fixed(total, 1)} bn" for total in totals],
        tooltips=[
            [
                f"{name}, {data['groups'][i]['name']}: {fixed(values[i] or 0, 2)} bn"
                for name, values in flows
            ]
            for i in rows
        ],
    )
    return _figure(svg)


def _annual_chart(brief: Brief, years: list[dict], footer) -> str:
    full = [y for y in years if y["months_covered"] == 12]
    left_out = [y for y in years if y["months_covered"] < 12]
    notes = [
        f"{y['year']} is left out: it covers {rd.month_span(y['months_covered'])} only."
        for y in left_out
    ]
    frame = charts.Frame(
        "chart-annual",
        f"{possessive(brief.name)} ATP trade with the U.S. by year",
        "$ billions per calendar year",
        (*notes, *footer),
    )
    svg = charts.line_chart(
        frame,
        [str(y["year"]) for y in full],
        [
            ("Exports to the U.S.", [_bn(y["atp_imports_usd"]) for y in full]),
            ("Imports from the U.S.", [_bn(y["atp_exports_usd"]) for y in full]),
        ],
    )
    return _figure(svg)


def _html_table(table: Table) -> str:
    headers = table.headers or table.columns
    left = table.left or set()
    head = "".join(f'<th scope="col">{charts.esc(h)}</th>' for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{charts.esc(cell)}</td>"
            if i in left
            else f'<td class="num">{charts.esc(_minus(cell))}</td>'
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in table.display or []
    )
    notes = "".join(f"<p>{charts.esc(note)}</p>" for note in table.notes)
    return (
        f'<table class="partners brief-table"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table>"
        + (f'<div class="table-footer">{notes}</div>' if notes else "")
    )


def _points(value: float) -> str:
    return _minus(f"{points(value)} pts")


def _minus(text: str) -> str:
    return text.replace("-", "−")


_BRIEF_CSS = """
.brief, .story { padding: 14px 16px; }
.brief h2, .story h2 { font-size: 17px; margin: 0 0 8px; }
.headline { font-size: 17px; margin: 0 0 10px; }
.brief ul, .story ol { margin: 0; padding-left: 22px; }
.brief-table { margin-top: 10px; }
.brief-table th, .brief-table td { padding: 4px 10px; }
.story .table-footer { padding: 6px 0 0; }
"""

_CSS = """
:root { color-scheme: light; }
body { margin: 0; background: #f4f5f7; color: #1d2330;
  font: 15px/1.5 system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 912px; margin: 0 auto; padding: 24px 16px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
.meta { color: #5b6472; margin: 0 0 8px; }
.period { margin: 0 0 20px; padding: 10px 14px; background: #fff; border-left: 4px solid #1d2330; }
.intro { margin: 0 0 20px; }
section { background: #fff; border: 1px solid #dfe2e6; border-radius: 6px; margin: 0 0 20px;
  overflow-x: auto; }
figure { margin: 0; }
svg.chart { display: block; width: 100%; height: auto; }
table.partners { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
caption { text-align: left; padding: 14px 16px 8px; }
caption .chart-title { display: block; font-size: 17px; font-weight: 700; }
caption .chart-units { display: block; color: #5b6472; font-size: 13px; }
th, td { padding: 6px 16px; border-bottom: 1px solid #e3e6ea; text-align: left; }
thead th { font-size: 13px; vertical-align: bottom; }
thead th .unit { display: block; font-weight: 400; color: #5b6472; }
tbody th { font-weight: 400; }
td.num, thead th:not(:nth-child(2)) { text-align: right; }
td.deficit { color: #a82c2c; }
td.na { color: #8a929e; }
tfoot th, tfoot td { font-weight: 600; border-top: 2px solid #1d2330; border-bottom: 0; }
.table-footer { padding: 4px 16px 12px; color: #5b6472; font-size: 12px; }
.table-footer p { margin: 2px 0; }
.empty { padding: 16px; }
footer { color: #5b6472; font-size: 13px; }
.banner { margin: 0 0 16px; padding: 10px 14px; border: 2px solid #b8860b; border-radius: 6px;
  background: #fff6d8; color: #1d2330; font-weight: 700; }
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
<main>
<header>
{banner}
<h1>{heading}</h1>
<p class="meta">{meta}</p>
<p class="intro">U.S. imports and exports of advanced technology products (ATP: the Census
Bureau's ten technology groups, from biotechnology to nuclear technology) by trading partner.
Imports are general imports; balance is exports minus imports. Year-over-year changes compare
the same months of the year before.</p>
</header>
{body}
<footer><p>{source}</p></footer>
</main>
</body>
</html>
"""
