"""The HTML report on the published fixture warehouse: written atomically and read-only, self-
contained, and drawn with data when headless Chromium renders it (DOM after load + screenshot).

Figures are worked out by hand from fake_census/fixtures.py (see test_report_data.py).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import numpy as np
import pytest

from analyst import charts
from analyst.formats import DEMO_SOURCE, SOURCE
from analyst.html_report import write_html_report, write_partner_page
from analyst.queries import AnalystError
from ingest.errors import WarehouseError

# The fixture is served by the fake API on 127.0.0.1: every source line says so.
FIXTURE_SOURCE = "Source: API at 127.0.0.1, not the Census Bureau (advanced technology products)."

# The latest full year's page (2025); a year in progress adds the year-to-date chart.
CHART_IDS = ["chart-history", "chart-shares", "chart-mix", "chart-balance"]
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


@pytest.fixture(scope="module")
def report(published, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("html") / "report"
    before = _sha256(published.published)
    path = write_html_report(published.published, out)
    assert _sha256(published.published) == before  # read-only
    return path


@pytest.fixture(scope="module")
def page_2026(published, tmp_path_factory) -> _Dom:
    """The page of Jan-Sep 2026, the year in progress (static SVG: parsed as written)."""
    out = tmp_path_factory.mktemp("html-2026")
    return _Dom.parse(write_html_report(published.published, out, 2026).read_text("utf-8"))


@pytest.fixture(scope="module")
def rendered(report, tmp_path_factory):
    """(DOM after load, screenshot path) from headless Chromium, both runs in parallel."""
    browser = _chromium()
    if browser is None:
        pytest.skip("headless Chromium not found (apt-get install -y chromium)")
    tmp = tmp_path_factory.mktemp("chromium")
    url = report.as_uri()
    shot = tmp / "report.png"
    dom_run = subprocess.Popen(
        [browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp / 'dom'}", "--dump-dom", url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    shot_run = subprocess.Popen(
        [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp / 'shot'}",
            f"--screenshot={shot}",
            "--window-size=1280,4000",
            url,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    dom, dom_err = dom_run.communicate(timeout=60)
    _, shot_err = shot_run.communicate(timeout=60)
    assert dom_run.returncode == 0 and "<svg" in dom, dom_err[-2000:]
    assert shot_run.returncode == 0 and shot.exists(), shot_err[-2000:]
    return _Dom.parse(dom), shot


# -- the file ---------------------------------------------------------------------------------


def test_writes_index_html_atomically(report, published):
    assert report.name == "index.html"
    assert [p.name for p in report.parent.iterdir()] == ["index.html"]  # no temp file left
    first = report.stat().st_ino
    again = write_html_report(published.published, report.parent)
    assert again == report
    assert report.stat().st_ino != first  # a new file renamed over the old one
    assert [p.name for p in report.parent.iterdir()] == ["index.html"]


def test_the_page_is_self_contained(report):
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in page
    # Nothing to fetch: no scripts, stylesheets, images, frames, fonts or links of any kind.
    for tag in ("<script", "<link", "<img", "<iframe", "<object", "<embed"):
        assert tag not in page.lower()
    assert not re.search(r"\s(src|href|xlink:href|srcset)=", page)
    assert "url(" not in page and "@import" not in page and "http" not in page


def test_missing_or_empty_published_copy_is_an_actionable_error(tmp_path):
    with pytest.raises(WarehouseError, match="no warehouse at .*nothing.duckdb: run `make run`"):
        write_html_report(tmp_path / "nothing.duckdb", tmp_path / "out")
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(AnalystError, match="empty.duckdb has no marts: run `make run`"):
        write_html_report(empty, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_partner_names_are_escaped(published, tmp_path):
    copy = tmp_path / "atp.duckdb"
    shutil.copyfile(published.published, copy)
    copy.chmod(0o644)
    with duckdb.connect(str(copy)) as con:
        for table in ("fct_atp_partner_year", "fct_atp_partner_category_year"):
            con.execute(
                f"UPDATE marts.{table} SET partner_name = 'TRINIDAD & TOBAGO <B>' "
                "WHERE partner_code = '2010'"
            )
    page = write_html_report(copy, tmp_path / "out").read_text(encoding="utf-8")
    assert "Trinidad &amp; Tobago &lt;B&gt;" in page
    assert "<B>" not in page and "Tobago <" not in page


def test_chart_text_is_escaped_and_ticks_are_round():
    svg = charts.bar_chart(
        charts.Frame("t", 'A "quoted" <title>', "$ billions", ("x & y",)),
        ["A&B <script>"],
        [-1.5],
    )
    assert "A&amp;B &lt;script&gt;" in svg and "<script>" not in svg
    assert "A &quot;quoted&quot; &lt;title&gt;" in svg and "x &amp; y" in svg
    assert charts.nice_ticks(0, 120) == ([0, 25, 50, 75, 100, 125], 0)
    assert charts.nice_ticks(-79.2, 45.6) == ([-100, -75, -50, -25, 0, 25, 50], 0)
    assert charts.nice_ticks(0, 0.9) == ([0, 0.2, 0.4, 0.6, 0.8, 1.0], 1)


# -- rendered in Chromium ---------------------------------------------------------------------


def test_rendered_page_has_the_table_and_four_charts(rendered):
    dom, _ = rendered
    assert [svg["id"] for svg in dom.svgs] == CHART_IDS  # exactly four <svg>, plus one table
    assert len(dom.tables) == 1
    assert "data through september 2026" in dom.text.lower()
    assert "MEXICO" not in dom.text and "Mexico" in dom.text
    for svg in dom.svgs:
        attrs = svg["attrs"]
        assert attrs["role"] == "img"
        assert attrs["aria-labelledby"] == f"{svg['id']}-title {svg['id']}-desc"
        assert svg["title"] and svg["chart-title"] == [svg["title"]]
        assert svg["chart-units"][0].startswith(("$ billions", "%"))
        assert svg["chart-footer"][-2:] == ["Data through September 2026.", FIXTURE_SOURCE]
    # Nothing in the rendered DOM points anywhere: no network requests are possible.
    assert dom.linked == []
    # Not Census data: a banner at the top says so, before the heading.
    assert dom.text.index(FIXTURE_SOURCE) < dom.text.index("Data through September 2026 · ")
    assert dom.text.strip().endswith(FIXTURE_SOURCE)  # the page footer


@pytest.mark.parametrize(
    ("change", "banner"),
    [
        ("UPDATE main.publication SET demo = true", DEMO_SOURCE),
        (
            "UPDATE main.publication SET source_api = "
            "'https://api.census.gov/data/timeseries/intltrade'",
            None,
        ),
        ("ALTER TABLE main.publication DROP COLUMN source_api", None),  # an old copy: Census
    ],
)
def test_the_banner_says_whose_data_it_is(published, tmp_path, change, banner):
    copy = tmp_path / "atp.duckdb"
    shutil.copyfile(published.published, copy)
    copy.chmod(0o644)
    with duckdb.connect(str(copy)) as con:
        con.execute(change)
    page = write_html_report(copy, tmp_path / "out").read_text(encoding="utf-8")
    header = page[page.index("<header>") : page.index("<h1>")]
    source = banner or SOURCE
    if banner:
        assert DEMO_SOURCE.startswith("Demo data, not from the Census Bureau")
        assert f'<p class="banner" role="note">{_escaped(banner)}</p>' in header
    else:
        assert "banner" not in page.split("</style>")[1]
    assert page.count(_escaped(source)) >= 6  # the table, each chart and the page footer
    assert "127.0.0.1" not in page.split("</style>")[1]


def test_rendered_table(rendered):
    dom, _ = rendered
    rows = dom.tables[0]
    assert rows[0] == [
        "Rank",
        "Partner",
        "ATP imports$ bn",
        "Change$ bn",
        "YoY%",
        "Share%",
        "Balance$ bn",
    ]
    assert rows[1] == ["1", "Mexico", "120.0", "+24.0", "+25.0", "30.6", "−67.2"]
    assert rows[4] == ["4", "Vietnam", "36.0", "n/a", "n/a", "9.2", "−30.0"]
    assert rows[6] == ["6", "Canada", "14.4", "+2.4", "+20.0", "3.7", "+45.6"]
    # The U.S. total: 392.4 bn, +56.4 on 336, balance 193.2 - 392.4.
    assert rows[7] == [
        "",
        "United States, all partners",
        "392.4",
        "+56.4",
        "+16.8",
        "100.0",
        "−199.2",
    ]


def test_rendered_line_chart_of_the_top_sources(rendered):
    svg = rendered[0].svg("chart-history")
    assert svg["title"] == "U.S. ATP imports from the top 6 sources of 2025, 2024–2025"
    # It ends with the page's year: nothing about 2026, which is another period.
    assert "$ billions" in _lines(svg) and "left out" not in _lines(svg)
    marks = [e for e in svg["marks"] if e["class"] == "series-line"]
    lines = {e["data-name"]: _path_points(e["d"]) for e in marks}
    # The grey lines first, the highlighted ones on top: the top 3 and the biggest mover of the
    # others (Vietnam, from nothing in 2024 to 36 bn).
    assert list(lines) == ["Germany", "Canada", "Mexico", "China", "Taiwan", "Vietnam"]
    strokes = {e["data-name"]: e["stroke"] for e in marks}
    assert strokes == {
        "Germany": charts.NEUTRAL,
        "Canada": charts.NEUTRAL,
        "Mexico": charts.PALETTE[0],
        "China": charts.PALETTE[1],
        "Taiwan": charts.PALETTE[2],
        "Vietnam": charts.PALETTE[3],
    }
    # Labelled at the line ends, not by a legend; the grey ones are named in the notes.
    assert svg["legend"] == []
    assert svg["end-label"] == ["Mexico 120.0", "China 108.0", "Taiwan 90.0", "Vietnam 36.0"]
    assert "In grey: 2 other sources: Germany; Canada." in svg["chart-footer"]
    assert any("biggest mover" in line and "Vietnam (+36.0 bn" in line for line in svg["lines"])
    # Two full years per partner; Vietnam has no 2024 trade, so one point (shown as a marker).
    assert {name: len(points) for name, points in lines.items()} == {
        "Mexico": 2,
        "China": 2,
        "Taiwan": 2,
        "Vietnam": 1,
        "Germany": 2,
        "Canada": 2,
    }
    # Markers on the highlighted lines only (Vietnam's single point among them).
    assert len([e for e in svg["marks"] if e["class"] == "point"]) == 7
    # SVG y grows downwards: Mexico rises (96 -> 120), China falls (144 -> 108), Germany is flat.
    (_, m24), (_, m25) = lines["Mexico"]
    (_, c24), (_, c25) = lines["China"]
    (_, g24), (_, g25) = lines["Germany"]
    assert m25 < m24 and c25 > c24 and g24 == g25
    assert {"0", "50", "100", "150", "2024", "2025"} <= set(svg["lines"])  # axis ticks
    # The end labels never overlap: at least a line's height apart.
    ys = sorted(float(y) for y in svg["end-label-y"])
    assert all(b - a >= 14 for a, b in zip(ys, ys[1:], strict=False))


def test_rendered_stacked_area_of_shares(rendered):
    svg = rendered[0].svg("chart-shares")
    # The three largest sources of the page's year (2025: Mexico 120, China 108, Taiwan 90 bn)
    # from the data, not a fixed list, up to that year: 2026 in progress is not on this page.
    assert svg["title"] == "Shares of U.S. ATP imports: the 3 largest sources of 2025 and the rest"
    areas = [e for e in svg["marks"] if e["class"] == "area"]
    assert [a["data-name"] for a in areas] == ["Mexico", "China", "Taiwan", "Rest of world"]
    # Each keeps the colour it has in the line chart; the rest is neutral.
    assert [a["fill"] for a in areas] == [
        charts.PALETTE[0],
        charts.PALETTE[1],
        charts.PALETTE[2],
        charts.NEUTRAL,
    ]
    for area in areas:
        assert len(area["points"].split()) == 4  # 2 years along the top, 2 back along the bottom
    assert "Jan-Sep" not in _lines(svg) and "2026" not in svg["lines"]
    assert "Mexico 30.6%" in _lines(svg)  # 120 / 392.4, labelled at the right edge
    assert svg["legend"] == ["Mexico", "China", "Taiwan", "Rest of world"]


def test_rendered_grid_of_the_group_mix(rendered):
    svg = rendered[0].svg("chart-mix")
    assert svg["title"] == "ATP imports by technology group, top 5 sources, 2025"
    cells = [e for e in svg["marks"] if e["class"] == "cell"]
    # 10 groups (every one is traded by one of the five) x 5 partners; no legend to match.
    assert len(cells) == 50 and svg["legend"] == []
    assert svg["column"] == ["Mexico", "China", "Taiwan", "Vietnam", "Germany"]
    assert svg["column-note"] == ["120.0 bn", "108.0 bn", "90.0 bn", "36.0 bn", "24.0 bn"]
    # Groups, largest first over the five: 04 Information & Communications leads.
    rows = list(dict.fromkeys(c["data-row"] for c in cells))
    assert rows[0] == "Information & Communications" and len(rows) == 10
    labels = dict(
        zip([(c["data-row"], c["data-column"]) for c in cells], svg["cell-label"], strict=True)
    )
    assert labels["Information & Communications", "Mexico"] == "50%"  # 60 of 120 bn
    assert labels["Electronics", "Taiwan"] == "50%"  # the chips mix
    assert labels["Weapons", "Taiwan"] == "–"  # no weapons at all
    assert labels["Aerospace", "Taiwan"] == "1.0%"
    # One colour ramp: a larger share is darker.
    fills = {(c["data-row"], c["data-column"]): c["fill"] for c in cells}
    assert _luminance(fills["Electronics", "Taiwan"]) < _luminance(fills["Aerospace", "Taiwan"])


def test_rendered_balance_bars(rendered):
    svg = rendered[0].svg("chart-balance")
    bars = {e["data-name"]: e for e in svg["marks"] if e["class"] == "bar"}
    assert list(bars) == ["Mexico", "China", "Taiwan", "Vietnam", "Germany", "Canada"]
    assert [b["fill"] for b in bars.values()] == [charts.NEGATIVE] * 5 + [charts.POSITIVE]
    assert float(bars["China"]["width"]) / float(bars["Mexico"]["width"]) == pytest.approx(
        79.2 / 67.2, rel=0.01
    )
    # Deficits end where surpluses start: on the zero line.
    zero = [e for e in svg["marks"] if e["class"] == "zero-line"]
    assert len(zero) == 1
    x0 = float(zero[0]["x1"])
    assert float(bars["Mexico"]["x"]) + float(bars["Mexico"]["width"]) == pytest.approx(x0, abs=0.2)
    assert float(bars["Canada"]["x"]) == pytest.approx(x0, abs=0.2)
    assert "−67.2" in _lines(svg) and "+45.6" in _lines(svg)
    assert svg["legend"] == ["U.S. deficit", "U.S. surplus"]  # both are present here


def test_legends_name_only_what_is_drawn():
    frame = charts.Frame("t", "T", "$ billions")
    deficits = charts.bar_chart(
        frame, ["A", "B"], [-1.0, -2.0], negative="Deficit", positive="Surplus"
    )
    assert "Deficit" in deficits and "Surplus" not in deficits
    bars = charts.stacked_bar_chart(
        frame, ["A", "B"], [("X", [1.0, 2.0]), ("Y", [0.0, 0.0]), ("Z", [0.0, 1.0])]
    )
    assert ">X<" in bars and ">Z<" in bars and ">Y<" not in bars


def test_no_colour_means_two_things_on_the_page(rendered):
    """Every colour of a mark stands for one thing across the page: a partner (the same partner
    in every chart), the partners not singled out, a deficit or surplus, a period, a share."""
    dom, _ = rendered
    meanings: dict[str, set] = {}
    for svg in dom.svgs:
        for mark in svg["marks"]:
            kind = mark["class"]
            if kind in ("series-line", "area"):
                color = mark.get("stroke") if kind == "series-line" else mark["fill"]
                name = mark["data-name"]
                others = color == charts.NEUTRAL or name == "Rest of world"
                meaning = "other partners" if others else name
            elif kind == "bar" and svg["id"] == "chart-balance":
                color, meaning = mark["fill"], f"balance {mark['fill']}"
            elif kind == "bar":
                color, meaning = mark["fill"], f"period {mark['data-name']}"
            elif kind == "cell":
                color, meaning = mark["fill"], "share of the partner's ATP imports"
            else:
                continue
            meanings.setdefault(color, set()).add(meaning)
    assert {c: m for c, m in meanings.items() if len(m) > 1} == {}
    # and the balance colours mean the sign: red bars are deficits, blue ones surpluses
    balance = dom.svg("chart-balance")
    x0 = float(next(e for e in balance["marks"] if e["class"] == "zero-line")["x1"])
    for bar in (e for e in balance["marks"] if e["class"] == "bar"):
        left = float(bar["x"]) < x0 - 0.5
        assert bar["fill"] == (charts.NEGATIVE if left else charts.POSITIVE)


def test_the_page_names_its_one_period(rendered, report):
    dom, _ = rendered
    page = report.read_text(encoding="utf-8")
    assert "<h1>U.S. trade in advanced technology products, 2025</h1>" in page
    assert (
        "This page is about 2025, the latest full year, against 2024: every table and chart (the "
        "charts over time end with it). Also loaded: January–September 2026 (atp html --year "
        "2026)." in dom.text
    )
    assert "Top 6 sources of U.S. ATP imports, 2025" in dom.text
    assert "The story of 2025: China" in dom.text
    # Every chart title names 2025, none names 2026 (only "Data through September 2026").
    for svg in dom.svgs:
        assert "2025" in svg["title"] and "2026" not in svg["title"], svg["title"]
        assert not [line for line in svg["lines"] if "2026" in line and "Data through" not in line]


def test_a_year_in_progress_is_its_months_against_the_same_months(page_2026):
    dom = page_2026
    assert [svg["id"] for svg in dom.svgs] == [*CHART_IDS, "chart-ytd"]
    assert "This page is about January–September 2026, the year so far, against " in dom.text
    assert "Top 6 sources of U.S. ATP imports, January–September 2026" in dom.text
    # Mexico: 11 x 9 = 99 bn against 10 x 9 = 90, 99 / 315.9 of the U.S.; balance 4.4 x 9 - 99
    assert dom.tables[0][1] == ["1", "Mexico", "99.0", "+9.0", "+10.0", "31.3", "−59.4"]
    history = dom.svg("chart-history")
    assert history["title"] == (
        "U.S. ATP imports from the top 6 sources of January–September 2026, 2024–2025"
    )
    assert "2026 is left out" in _lines(history)
    shares = dom.svg("chart-shares")
    assert "Mexico 31.3%" in _lines(shares) and "Jan-Sep" in _lines(shares)


def test_rendered_year_to_date_bars(page_2026):
    svg = page_2026.svg("chart-ytd")
    assert svg["title"] == "Year to date: Jan-Sep 2026 vs Jan-Sep 2025"
    bars = [e for e in svg["marks"] if e["class"] == "bar"]
    assert len(bars) == 12  # 6 partners x (Jan-Sep 2025, Jan-Sep 2026)
    assert svg["legend"] == ["Jan-Sep 2025", "Jan-Sep 2026"]
    # Mexico: 90.0 then 99.0 bn, +10%.
    mexico_2025, mexico_2026 = float(bars[0]["width"]), float(bars[1]["width"])
    assert mexico_2026 / mexico_2025 == pytest.approx(99 / 90, rel=0.01)
    for label in ("90.0", "99.0", "+10.0%", "−10.0%", "315.9 vs 294.3"):
        assert label in _lines(svg)


def test_screenshot_is_drawn(rendered):
    _, shot = rendered
    pixels = _read_png(shot)
    assert pixels.shape[:2] == (4000, 1280)
    rgb = pixels[:, :, :3].astype(np.uint32)
    packed = (rgb[:, :, 0] << 16 | rgb[:, :, 1] << 8 | rgb[:, :, 2]).ravel()
    colors, counts = np.unique(packed, return_counts=True)
    seen = {f"#{c:06x}": n for c, n in zip(colors.tolist(), counts.tolist(), strict=True)}
    assert len(seen) > 100  # text anti-aliasing alone gives many; a blank page has 1 or 2
    # The charts' fills are painted: deficits, surpluses, "rest of world", two partners' shares.
    for fill in (
        charts.NEGATIVE,
        charts.POSITIVE,
        charts.NEUTRAL,
        charts.PALETTE[0],
        charts.PALETTE[2],
    ):
        assert seen.get(fill, 0) > 500, fill


# -- helpers ----------------------------------------------------------------------------------


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _lines(svg: dict) -> str:
    return "\n".join(svg["lines"])


def _escaped(text: str) -> str:
    return charts.esc(text)


def _luminance(color: str) -> float:
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _path_points(d: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"[ML]([-\d.]+),([-\d.]+)", d)]


class _Dom(HTMLParser):
    """The bits of the rendered DOM the tests look at: each <svg> (attributes, title, visible
    <text> lines with their class, marks with a class, legend names), the table cells, all text
    and any src/href attributes."""

    MARKS = {"series-line", "point", "area", "segment", "bar", "zero-line", "cell", "x-tick"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.svgs, self.tables, self.linked, self._all = [], [], [], []
        self._svg = self._row = self._cell = self._text = self._title = None
        self._legend = False

    @classmethod
    def parse(cls, html: str) -> _Dom:
        dom = cls()
        dom.feed(html)
        return dom

    @property
    def text(self) -> str:
        return "".join(self._all)

    def svg(self, chart_id: str) -> dict:
        return next(s for s in self.svgs if s["id"] == chart_id)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.linked += [v for k, v in attrs.items() if k in ("src", "href", "xlink:href", "srcset")]
        if tag == "svg":
            self._svg = {"id": attrs.get("id"), "attrs": attrs, "title": None, "lines": []}
            self._svg.update(marks=[], legend=[])
            self.svgs.append(self._svg)
        elif self._svg is not None:
            if tag == "title" and self._svg["title"] is None:
                self._title = []  # the chart's own <title>, not a mark's tooltip
            elif tag == "text":
                self._text = {"class": attrs.get("class"), "parts": []}
                if attrs.get("class"):
                    self._svg.setdefault(f"{attrs['class']}-y", []).append(attrs.get("y"))
            elif tag == "tspan" and self._text is not None:
                self._text["parts"].append(" ")
            if attrs.get("class") in self.MARKS:
                self._svg["marks"].append(attrs)
            self._legend = self._legend or attrs.get("class") == "legend-item"
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._row = []
            self.tables[-1].append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "svg":
            self._svg = None
        elif tag == "title" and self._title is not None:
            self._svg["title"], self._title = "".join(self._title), None
        elif tag == "text" and self._text is not None:
            line = "".join(self._text["parts"]).strip()
            (self._svg["legend"] if self._legend else self._svg["lines"]).append(line)
            self._svg.setdefault(self._text["class"], []).append(line)
            self._text = None
        elif tag == "g":
            self._legend = False
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        self._all.append(data)
        for sink in (self._cell, self._title, self._text and self._text["parts"]):
            if sink is not None:
                sink.append(data)


def _read_png(path: Path) -> np.ndarray:
    """Pixels (height, width, channels) of an 8-bit RGB/RGBA non-interlaced PNG, as Chromium
    writes them: zlib plus the five PNG row filters (numpy for the row-wise ones)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, []
    while pos < len(data):
        (size,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + size]
        pos += 12 + size
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
    assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
    bpp = 3 if color == 2 else 4
    stride = width * bpp
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), np.uint8).reshape(height, stride + 1)
    out = np.zeros((height, stride), np.uint8)
    prior = np.zeros(stride, np.uint8)
    for y in range(height):
        kind, line = raw[y, 0], raw[y, 1:]
        if kind == 0:
            row = line.copy()
        elif kind == 1:  # Sub: a running sum along each channel
            row = line.reshape(-1, bpp).cumsum(axis=0, dtype=np.uint8).reshape(-1)
        elif kind == 2:  # Up
            row = line + prior
        else:  # Average and Paeth depend on the byte just decoded: one at a time
            row, filtered, up = line.tolist(), line.tolist(), prior.tolist()
            for i in range(stride):
                a, b = (row[i - bpp] if i >= bpp else 0), up[i]
                if kind == 3:
                    row[i] = (filtered[i] + ((a + b) >> 1)) & 255
                    continue
                c = up[i - bpp] if i >= bpp else 0
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                row[i] = (
                    filtered[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)
                ) & 255
            row = np.array(row, np.uint8)
        out[y] = row
        prior = row
    return out.reshape(height, width, bpp)


def test_atp_html_writes_the_report(published, tmp_path, capsys):
    from orchestration.cli import main

    assert main(["html", "--out", str(tmp_path / "site")]) == 0
    written = tmp_path / "site" / "index.html"
    assert capsys.readouterr().out.strip() == f"wrote {written}"
    assert "<svg" in written.read_text()


def test_atp_html_year_2024_is_2024s_page(published, tmp_path, capsys):
    from orchestration.cli import main

    assert main(["html", "--year", "2024", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == f"wrote {tmp_path / 'index.html'}"
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    dom = _Dom.parse(page)
    assert "<h1>U.S. trade in advanced technology products, 2024</h1>" in page
    assert "Also loaded: 2025 through January–September 2026 (atp html --year YEAR)." in dom.text
    rows = dom.tables[0]
    # 2024: China 12 x 12 = 144 bn first, Mexico 96; 2023 is not loaded, so no change.
    assert rows[1] == ["1", "China", "144.0", "n/a", "n/a", "42.9", "−108.0"]
    assert rows[2] == ["2", "Mexico", "96.0", "n/a", "n/a", "28.6", "−48.0"]
    assert rows[-1] == ["", "United States, all partners", "336.0", "n/a", "n/a", "100.0", "−150.0"]
    assert "The story of" not in page  # no change to tell without 2023
    assert dom.svg("chart-history")["title"] == (
        "U.S. ATP imports from the top 5 sources of 2024, 2024"
    )
    shares = dom.svg("chart-shares")
    assert "the 3 largest sources of 2024" in shares["title"] and "China 42.9%" in _lines(shares)
    assert dom.svg("chart-mix")["column"] == ["China", "Mexico", "Taiwan", "Germany", "Canada"]
    for svg in dom.svgs:
        assert "2025" not in svg["title"] and "2026" not in svg["title"], svg["title"]


@pytest.mark.parametrize(
    ("year", "message"),
    [
        (
            "2019",
            "2019 is not loaded in {path} (years loaded: 2024-2026). Set ATP_START_YEAR and "
            "run `make run` to load it.",
        ),
        ("2031", "2031 has no data yet: {path} runs through 2026 (9 months of it)."),
    ],
)
def test_atp_html_year_not_loaded_is_one_line(published, tmp_path, capsys, year, message):
    from orchestration.cli import main

    assert main(["html", "--year", year, "--out", str(tmp_path / "site")]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"atp html: {message.format(path=published.published)}\n"
    assert not (tmp_path / "site").exists()


def test_partner_page_trailing_twelve_months_are_lines_with_year_ticks(published, tmp_path):
    page = write_partner_page(published.published, tmp_path, "mexico")
    svg = _Dom.parse(page.read_text(encoding="utf-8")).svg("chart-t12m")
    lines = {
        e["data-name"]: _path_points(e["d"]) for e in svg["marks"] if e["class"] == "series-line"
    }
    # Windows ending Dec 2024 .. Sep 2026: 22 months, one unbroken line per flow, no beads.
    assert {name: len(points) for name, points in lines.items()} == {
        "Exports to the U.S.": 22,
        "Imports from the U.S.": 22,
    }
    assert [e for e in svg["marks"] if e["class"] == "point"] == []
    # x ticks on each January, labelled by its year: Jan 2025 is the 2nd window, Jan 2026 the 14th.
    xs = [x for x, _ in lines["Exports to the U.S."]]
    ticks = [e for e in svg["marks"] if e["class"] == "x-tick"]
    assert [float(t["x1"]) for t in ticks] == pytest.approx([xs[1], xs[13]], abs=0.05)
    assert {"2025", "2026"} <= set(svg["lines"]) and "Sep 2026" not in svg["lines"]
    # Named at the line ends with the last window's value (Oct 2025 - Sep 2026), no legend.
    assert svg["legend"] == []
    assert svg["end-label"] == ["Exports to the U.S. 129.0", "Imports from the U.S. 52.8"]
    assert svg["chart-units"][0].endswith("at the right end: to Sep 2026")
