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
from analyst.formats import SOURCE, title_name
from analyst.queries import open_published
from ingest.files import write_atomic

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
        css=_CSS,
        body="\n".join(sections),
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
