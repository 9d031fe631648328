"""The HTML report: one self-contained page (inline CSS and SVG, no scripts, no network) with the
top partners table and five charts, all read from the published marts.

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
    possessive,
    sentences,
    signed_money,
)
from analyst.formats import SOURCE, Table, title_name
from analyst.queries import AnalystError, open_published, partner_years
from ingest.files import write_atomic
from ingest.warehouse import mart_tables

PAGE_TITLE = "U.S. trade in advanced technology products"
TOP, TOP_MIX = 10, 5
# Prior period light, current period strong: the eye lands on the current year.
YTD_COLORS = ("#a9c4e0", "#1f5fa8")


def write_html_report(published: Path, out_dir: Path) -> Path:
    """Read the published DuckDB copy (read-only) and write `out_dir/index.html`; returns the path."""
    with open_published(published, required=rd.MARTS_READ) as con:
        page = render(con)
    target = out_dir / "index.html"
    write_atomic(target, page)
    return target


def render(con: duckdb.DuckDBPyConnection) -> str:
    """The whole page as a string."""
    through = rd.data_through_label(con)
    footer = (f"Data through {through}.", SOURCE)
    year = rd.latest_full_year(con)
    sections = []
    if year is None:
        sections.append('<p class="empty">No full calendar year is loaded yet.</p>')
    else:
        table = rd.top_partners(con, year, "imports", TOP)
        history = rd.top_sources_history(con, year, TOP)
        # A partner keeps its colour in every chart: the palette in the latest full year's order.
        colors = {s["code"]: charts.PALETTE[i] for i, s in enumerate(history["series"])}
        sections += [
            _table(table, footer),
            _story(con, year),
            _history_chart(history, year, footer),
            _shares_chart(rd.import_shares(con), colors, footer),
            _mix_chart(rd.group_mix(con, year, TOP_MIX), footer),
            _balance_chart(table, footer),
        ]
    ytd = rd.year_to_date(con, TOP)
    if ytd is not None:
        sections.append(_ytd_chart(ytd, footer))
    published_at = rd.published_at(con)
    stamp = f" · published {published_at}" if published_at else ""
    return _PAGE.format(
        title=charts.esc(f"{PAGE_TITLE}, data through {through}"),
        heading=charts.esc(PAGE_TITLE),
        meta=charts.esc(f"Data through {through}{stamp}."),
        css=_CSS + _BRIEF_CSS,
        body="\n".join(section for section in sections if section),
        source=charts.esc(SOURCE),
    )


def _table(data: rd.TopPartners, footer) -> str:
    head = ("Rank", "Partner", "ATP imports", "Change", "YoY", "Share", "Balance")
    units = ("", "", "$ bn", "$ bn", "%", "%", "$ bn")
    rows = [
        _row(str(p["rank"]), title_name(p["partner_name"]), _imports_values(p))
        for p in data.partners
    ]
    total = _row("", data.us_total["partner_name"], _imports_values(data.us_total))
    header = "".join(
        f'<th scope="col">{charts.esc(h)}<span class="unit">{charts.esc(u)}</span></th>'
        for h, u in zip(head, units, strict=True)
    )
    n, year = len(data.partners), data.year
    notes = (
        f"Change and YoY: against {year - 1}. Share: of U.S. ATP imports from all partners. "
        "Balance: U.S. ATP exports minus imports (negative = U.S. deficit). n/a: nothing to "
        f"compare with in {year - 1} (no trade, or the year is not loaded).",
        *footer,
    )
    return (
        '<section id="top-partners"><table class="partners">'
        f'<caption><span class="chart-title">Top {n} sources of U.S. ATP imports, {year}</span>'
        '<span class="chart-units">$ billions and %, U.S. general imports of advanced technology '
        "products</span></caption>"
        f"<thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody>"
        f'<tfoot>{total}</tfoot></table><div class="table-footer">'
        + "".join(f"<p>{charts.esc(line)}</p>" for line in notes)
        + "</div></section>"
    )


def _imports_values(row: dict) -> tuple:
    """A top-partners row's imports figures as the table shows them ($ bn and %)."""
    return (
        _bn(row["atp_imports_usd"]),
        _bn(row["atp_imports_change_usd"]),
        row["atp_imports_yoy_pct"],
        row["atp_imports_share_pct"],
        _bn(row["atp_balance_usd"]),
    )


def _bn(value: int | None) -> float | None:
    return None if value is None else value / rd.B


def _row(rank: str, name: str, values) -> str:
    imports, change, yoy, share, balance = values
    cells = [
        _num(imports, "{:,.1f}"),
        _num(change, "{:+,.1f}"),
        _num(yoy, "{:+.1f}"),
        _num(share, "{:.1f}"),
        _num(balance, "{:+,.1f}", negative_class=True),
    ]
    return f'<tr><td class="num">{rank}</td><th scope="row">{charts.esc(name)}</th>{"".join(cells)}</tr>'


def _num(value: float | None, pattern: str, negative_class: bool = False) -> str:
    if value is None:
        return '<td class="num na">n/a</td>'
    css = "num deficit" if negative_class and value < 0 else "num"
    return f'<td class="{css}">{charts.esc(pattern.format(value).replace("-", "−"))}</td>'


def _history_chart(data: dict, year: int, footer) -> str:
    years = data["years"]
    notes = []
    if data["left_out"]:
        partial, months = data["left_out"]
        notes.append(
            f"{partial} is left out: it covers {rd.month_span(months)} only, and a part-year total "
            "would read as a fall. The year-to-date chart compares it with the same months."
        )
    frame = charts.Frame(
        "chart-history",
        f"U.S. ATP imports from the top {len(data['series'])} sources of {year}, "
        f"{years[0]}–{years[-1]}",
        "$ billions per calendar year, U.S. general imports of advanced technology products",
        (*notes, *footer),
    )
    svg = charts.line_chart(
        frame,
        [str(y) for y in years],
        [(s["name"], s["values"]) for s in data["series"]],
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
    palette = [colors.get(code) for code, _ in rd.SHARE_PARTNERS]
    # A partner outside the top 10 (no colour yet) takes the first colour nobody else has.
    spare = iter(c for c in reversed(charts.PALETTE) if c not in palette)
    palette = [color or next(spare) for color in palette]
    frame = charts.Frame(
        "chart-shares",
        "Shares of U.S. ATP imports: China, Mexico, Taiwan and the rest of the world",
        "% of U.S. ATP imports from all partners, stacked to 100%",
        (*partial, *footer),
    )
    svg = charts.stacked_area_chart(
        frame,
        labels,
        [(s["name"], s["values"]) for s in data["series"]],
        colors=[*palette, charts.NEUTRAL],
        fmt=lambda v: f"{v:.1f}%",
    )
    return _figure(svg)


def _mix_chart(data: dict, footer) -> str:
    partners = data["partners"]
    frame = charts.Frame(
        "chart-mix",
        f"ATP imports by technology group, top {len(partners)} sources, {data['year']}",
        "$ billions; labels in the bars: % of the partner's ATP imports",
        footer,
    )
    segments = [
        (group["name"], [p["values_bn"][i] for p in partners])
        for i, group in enumerate(data["groups"])
    ]
    svg = charts.stacked_bar_chart(frame, [p["name"] for p in partners], segments)
    return _figure(svg)


def _balance_chart(data: rd.TopPartners, footer) -> str:
    partners = data.partners
    frame = charts.Frame(
        "chart-balance",
        f"U.S. ATP trade balance with the top {len(partners)} sources of ATP imports, {data.year}",
        "$ billions, U.S. ATP exports minus imports (negative = U.S. deficit)",
        footer,
    )
    svg = charts.bar_chart(
        frame,
        [title_name(p["partner_name"]) for p in partners],
        [_bn(p["atp_balance_usd"]) for p in partners],
        fmt=lambda v: f"{v:+,.1f}".replace("-", "−"),
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
        f"$ billions, U.S. ATP imports from the top {len(data['partners'])} sources of {year}; "
        + total,
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
    return "n/a" if value is None else f"{value:+.1f}%".replace("-", "−")


# -- the story panel and one partner's brief page -----------------------------------------------


def _story(con: duckdb.DuckDBPyConnection, year: int) -> str:
    """The latest full year's largest mover among the top partners (the largest change in
    dollars, either way): the brief's headline and what drove it. Nothing when the published copy
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
    notes = (
        f"The largest change in dollars, up or down, among the top sources of {year} in the "
        f"table above, against {year - 1}. Points: each ATP group's change as a share of {possessive(brief.name)} ATP "
        f"exports to the U.S. in {year - 1}; they add up to its YoY %. The whole brief: "
        f"atp brief {brief.partner.code} --year {year}.",
        "From marts.fct_atp_partner_year and marts.fct_atp_partner_contribution_year.",
    )
    return (
        '<section id="story" class="story">'
        f"<h2>The story of {year}: {charts.esc(brief.name)}</h2>"
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
    footer = (f"Data through {through}.", SOURCE)
    sections = [_brief_words(words)]
    if brief.ranked:
        sections.append(_drivers_section(brief, words, footer))
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


def _t12m_chart(brief: Brief, data: dict, footer) -> str:
    frame = charts.Frame(
        "chart-t12m",
        f"{possessive(brief.name)} ATP trade with the U.S. over the trailing 12 months",
        "$ billions, the 12 months up to the month shown (a month ends a window when the 11 "
        "before it are loaded too)",
        footer,
    )
    svg = charts.line_chart(
        frame,
        data["labels"],
        [
            ("Exports to the U.S.", data["imports_bn"]),
            ("Imports from the U.S.", data["exports_bn"]),
        ],
    )
    return _figure(svg)


def _partner_mix_chart(brief: Brief, data: dict, footer) -> str:
    frame = charts.Frame(
        "chart-partner-mix",
        f"{possessive(brief.name)} ATP trade with the U.S. by technology group, "
        f"{period(brief.year, brief.months)}",
        "$ billions; labels in the bars: % of the flow",
        footer,
    )
    segments = [
        (group["name"], [data["imports_bn"][i], data["exports_bn"][i]])
        for i, group in enumerate(data["groups"])
    ]
    svg = charts.stacked_bar_chart(
        frame, ["Exports to the U.S.", "Imports from the U.S."], segments
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
    return _minus(f"{value:+.1f} pts")


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
