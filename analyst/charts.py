"""Inline SVG charts from plain data: line, stacked area, stacked bar, bar and grouped bar.

The report has to open offline as one file, so there is no plotting or JavaScript library: each
function returns an `<svg>` string. Every chart carries its title, units and footer lines (data
through, source) inside the SVG, a `<title>`/`<desc>` for screen readers, and a native tooltip
(`<title>`) on each mark. All text is escaped here, so callers pass raw names.

Marks carry classes (series-line, point, area, segment, bar) so tests can count them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from analyst.formats import fixed

# A fixed palette (distinct in hue and lightness). In the report a colour means one thing on the
# page: the first six are the partners a chart singles out (a partner keeps its colour across
# charts), NEUTRAL the partners it does not, NEGATIVE and POSITIVE a deficit and a surplus, the
# year-to-date pair and the group-mix ramp below are used nowhere else.
PALETTE = (
    "#e0782b",
    "#7b5ea7",
    "#2e9e6a",
    "#d45fa0",
    "#a8a829",
    "#8c6239",
    "#1fa3b8",
    "#5f6b7a",
    "#c23b3b",
    "#1f5fa8",
)
PARTNER_COLORS = PALETTE[:6]
NEUTRAL = "#c4c9d0"  # "rest of world", the partners a chart does not single out
NEGATIVE, POSITIVE = "#c23b3b", "#1f5fa8"
PERIOD_COLORS = ("#9fd3cd", "#17756e")  # the year before (light), the year to date (strong)
RAMP = ("#f1f4f9", "#2d3e63")  # shares in the group-mix grid: 0% light, 100% dark
INK, MUTED, GRID = "#1d2330", "#5b6472", "#e3e6ea"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
WIDTH = 880
PAD = 16  # outer padding left and right

Fmt = Callable[[float], str]


def one_decimal(value: float) -> str:
    """One decimal, more for a small non-zero value (never 0.0 for it)."""
    return fixed(value, 1)


@dataclass(frozen=True)
class Frame:
    """The words around a chart: every chart has a title, a units line and footer lines."""

    slug: str  # unique in the page: ids of the <title> and <desc>
    title: str
    units: str
    footer: Sequence[str] = ()


def line_chart(
    frame: Frame,
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    colors: Sequence[str] = PALETTE,
    fmt: Fmt = one_decimal,
) -> str:
    """One line per series over categorical x (e.g. years); None leaves a gap. Each point also
    gets a marker, so a series with a single value still shows."""
    legend = [(name, colors[i % len(colors)]) for i, (name, _) in enumerate(series)]
    values = [v for _, vals in series for v in vals if v is not None]
    ticks, decimals = nice_ticks(0.0, max(values, default=0.0))
    layout = _Layout(frame, legend, plot_height=300, left=56, right=24, bottom=28)
    scale_y = _scale(ticks[0], ticks[-1], layout.bottom_y, layout.top)
    xs = _spread(len(x_labels), layout.left, layout.right_x, inset=24)
    parts = _y_grid(layout, ticks, decimals, scale_y) + _x_labels(layout, xs, x_labels)
    for (name, vals), (_, color) in zip(series, legend, strict=True):
        d, points = [], []
        pen_down = False
        for x, label, v in zip(xs, x_labels, vals, strict=True):
            if v is None:
                pen_down = False
                continue
            d.append(f"{'L' if pen_down else 'M'}{x:.1f},{scale_y(v):.1f}")
            pen_down = True
            points.append(
                f'<circle class="point" cx="{x:.1f}" cy="{scale_y(v):.1f}" r="3.5" '
                f'fill="{color}" stroke="#fff" stroke-width="1.5">'
                f"<title>{esc(name)}, {esc(label)}: {fmt(v)}</title></circle>"
            )
        parts.append(
            f'<g class="series" data-name="{esc(name)}">'
            f'<path class="series-line" data-name="{esc(name)}" d="{" ".join(d)}" fill="none" stroke="{color}" '
            f'stroke-width="2.5" stroke-linejoin="round" stroke-linecap="round"/>'
            f"{''.join(points)}</g>"
        )
    return layout.svg(parts)


def highlight_line_chart(
    frame: Frame,
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    colors: dict[str, str],
    *,
    fmt: Fmt = one_decimal,
    markers: bool = True,
    ticks: dict[int, str] | None = None,
) -> str:
    """Lines over categorical x (e.g. years) where only the series named in `colors` stand out:
    those are drawn in their colour, with markers, on top, and labelled by name and last value
    at their right end (labels moved apart so they never overlap); the others are thin NEUTRAL
    lines (named in their tooltip), so the eye is not asked to match ten colours to a legend.

    For a long series (e.g. monthly): `markers=False` draws plain lines (a point with no
    neighbour still gets one), and `ticks` ({x index: label}, e.g. each January by its year)
    marks and labels only those positions; the tooltips then give the values at the ticks."""
    values = [v for _, vals in series for v in vals if v is not None]
    y_ticks, decimals = nice_ticks(0.0, max(values, default=0.0))
    labelled = [(name, vals) for name, vals in series if name in colors]
    label_room = max(
        (
            _text_width(f"{n} {fmt(max(v for v in vals if v is not None))}", 12)
            for n, vals in labelled
            if any(v is not None for v in vals)
        ),
        default=0,
    )
    layout = _Layout(frame, [], plot_height=300, left=56, right=label_room + 22, bottom=28)
    scale_y = _scale(y_ticks[0], y_ticks[-1], layout.bottom_y, layout.top)
    xs = _spread(len(x_labels), layout.left, layout.right_x, inset=12)
    x_axis = _x_labels(layout, xs, x_labels) if ticks is None else _x_ticks(layout, xs, ticks)
    parts = _y_grid(layout, y_ticks, decimals, scale_y) + x_axis
    grey, strong, ends = [], [], []
    for name, vals in series:
        color = colors.get(name)
        d, points, pen_down, last = [], [], False, None
        for i, (x, label, v) in enumerate(zip(xs, x_labels, vals, strict=True)):
            if v is None:
                pen_down = False
                continue
            y = scale_y(v)
            d.append(f"{'L' if pen_down else 'M'}{x:.1f},{y:.1f}")
            pen_down, last = True, (x, y, v)
            # A point with no neighbour draws no line: it needs a marker to show at all.
            alone = (i == 0 or vals[i - 1] is None) and (i + 1 == len(vals) or vals[i + 1] is None)
            if (color and markers) or alone:
                points.append(
                    f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" '
                    f'r="{3.5 if color else 2.5}" fill="{color or NEUTRAL}" stroke="#fff" '
                    f'stroke-width="1.5"><title>{esc(name)}, {esc(label)}: {fmt(v)}</title>'
                    "</circle>"
                )
        shown = range(len(vals)) if ticks is None else sorted({*ticks, len(vals) - 1})
        detail = ", ".join(f"{x_labels[i]}: {fmt(vals[i])}" for i in shown if vals[i] is not None)
        width, stroke = ("2.75", color) if color else ("1.5", NEUTRAL)
        group = (
            f'<g class="series" data-name="{esc(name)}">'
            f'<path class="series-line" data-name="{esc(name)}" d="{" ".join(d)}" fill="none" '
            f'stroke="{stroke}" stroke-width="{width}" stroke-linejoin="round" '
            f'stroke-linecap="round"><title>{esc(name)}: {esc(detail)}</title></path>'
            f"{''.join(points)}</g>"
        )
        (strong if color else grey).append(group)
        if color and last is not None:
            ends.append((last[1], f"{name} {fmt(last[2])}", color))
    parts += grey + strong
    for y, text, color in _spaced(ends, gap=15, low=layout.top + 4, high=layout.bottom_y - 2):
        parts.append(
            _text(
                layout.right_x + 8, y + 4, text, size=12, fill=color, weight="600", css="end-label"
            )
        )
    return layout.svg(parts)


def heat_grid(
    frame: Frame,
    rows: Sequence[str],
    columns: Sequence[str],
    shares: Sequence[Sequence[float]],
    *,
    column_notes: Sequence[str] = (),
    tooltips: Sequence[Sequence[str]] | None = None,
) -> str:
    """A table of shares (%): one row per `rows` item, one column per `columns` item, each cell
    shaded on one light-to-dark RAMP by its share and labelled with it (no legend: the numbers
    are in the cells). `column_notes` go under the column names (e.g. each column's total)."""
    label_width = max((_text_width(r, 12.5) for r in rows), default=0) + 14
    layout = _Layout(frame, [], plot_height=0, left=label_width, right=0, bottom=0)
    heads = [_wrap(c, (layout.right_x - layout.left) / max(len(columns), 1) - 8) for c in columns]
    head_lines = max((len(h) for h in heads), default=1) + (1 if column_notes else 0)
    top = layout.top + 15 * head_lines + 6
    cell_h = 26
    layout.bottom_y = top + cell_h * len(rows)
    layout.height = layout.bottom_y + 14 + 16 * len(frame.footer) + 6
    width = (layout.right_x - layout.left) / max(len(columns), 1)
    parts = []
    for j, lines in enumerate(heads):
        x = layout.left + (j + 0.5) * width
        texts = [*lines, *([column_notes[j]] if column_notes else [])]
        for k, line in enumerate(texts):
            is_note = column_notes and k == len(texts) - 1
            parts.append(
                _text(
                    x,
                    layout.top + 11 + 15 * k,
                    line,
                    size=12 if is_note else 12.5,
                    anchor="middle",
                    fill=MUTED if is_note else INK,
                    weight=None if is_note else "600",
                    css="column-note" if is_note else "column",
                )
            )
    for i, row in enumerate(rows):
        y = top + i * cell_h
        parts.append(_category_label(layout, y + cell_h / 2, row))
        for j in range(len(columns)):
            share = shares[i][j]
            fill = _ramp(share / 100)
            x = layout.left + j * width
            tip = tooltips[i][j] if tooltips else f"{row}, {columns[j]}: {fixed(share, 1)}%"
            parts.append(
                f'<rect class="cell" data-row="{esc(row)}" data-column="{esc(columns[j])}" '
                f'x="{x + 1:.1f}" y="{y + 1:.1f}" width="{width - 2:.1f}" height="{cell_h - 2}" '
                f'fill="{fill}"><title>{esc(tip)}</title></rect>'
            )
            dark = _luminance(fill) < 0.45
            parts.append(
                _text(
                    x + width / 2,
                    y + cell_h / 2 + 4.5,
                    share_label(share),
                    size=12,
                    anchor="middle",
                    fill="#fff" if dark else INK,
                    css="cell-label",
                )
            )
    return layout.svg(parts)


def share_label(share: float) -> str:
    """A share for a cell: '75%', '4.2%', '0.3%' (never 0% for a non-zero share), '–' for none."""
    if share == 0:
        return "–"
    if share >= 9.5:
        return f"{share:.0f}%"
    decimals = 1
    while round(share, decimals) == 0 and decimals < 6:
        decimals += 1
    return f"{share:.{decimals}f}%"


def stacked_area_chart(
    frame: Frame,
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    colors: Sequence[str] = PALETTE,
    fmt: Fmt = one_decimal,
    y_max: float = 100.0,
) -> str:
    """Series stacked bottom-up over categorical x; the last values are labelled at the right
    edge (labels nudged apart so thin bands stay readable)."""
    legend = [(name, colors[i % len(colors)]) for i, (name, _) in enumerate(series)]
    ticks, decimals = nice_ticks(0.0, y_max)
    layout = _Layout(frame, legend, plot_height=280, left=56, right=150, bottom=40)
    scale_y = _scale(ticks[0], ticks[-1], layout.bottom_y, layout.top)
    xs = _spread(len(x_labels), layout.left, layout.right_x, inset=0)
    parts = _y_grid(layout, ticks, decimals, scale_y) + _x_labels(layout, xs, x_labels)
    base = [0.0] * len(x_labels)
    ends = []
    for (name, vals), (_, color) in zip(series, legend, strict=True):
        top = [b + v for b, v in zip(base, vals, strict=True)]
        upper = [f"{x:.1f},{scale_y(v):.1f}" for x, v in zip(xs, top, strict=True)]
        lower = [f"{x:.1f},{scale_y(v):.1f}" for x, v in zip(xs, base, strict=True)][::-1]
        detail = ", ".join(
            f"{label}: {fmt(v)}" for label, v in zip(x_labels, vals, strict=True)
        ).replace("\n", " ")
        parts.append(
            f'<polygon class="area" data-name="{esc(name)}" points="{" ".join(upper + lower)}" '
            f'fill="{color}" stroke="#fff" stroke-width="1"><title>{esc(name)}: {esc(detail)}'
            "</title></polygon>"
        )
        if vals:
            ends.append((scale_y((base[-1] + top[-1]) / 2), f"{name} {fmt(vals[-1])}", color))
        base = top
    for y, text, color in _spaced(ends, gap=15, low=layout.top + 6, high=layout.bottom_y - 2):
        parts.append(
            f'<rect x="{layout.right_x + 8}" y="{y - 5:.1f}" width="10" height="10" fill="{color}"/>'
            + _text(layout.right_x + 22, y + 4, text, size=12)
        )
    return layout.svg(parts)


def stacked_bar_chart(
    frame: Frame,
    categories: Sequence[str],
    segments: Sequence[tuple[str, Sequence[float]]],
    *,
    colors: Sequence[str] = PALETTE,
    fmt: Fmt = one_decimal,
) -> str:
    """Horizontal bars, one per category, split into segments (values >= 0; zero segments are not
    drawn). A segment wide enough shows its share of the bar; the bar's total is at its end.
    The legend names only the segments drawn (a colour stays with its segment's position)."""
    legend = [(name, colors[i % len(colors)]) for i, (name, _) in enumerate(segments)]
    shown = [
        item for item, (_, vals) in zip(legend, segments, strict=True) if any(v > 0 for v in vals)
    ]
    totals = [sum(vals[i] for _, vals in segments) for i in range(len(categories))]
    ticks, decimals = nice_ticks(0.0, max(totals, default=0.0) * 1.1)
    layout = _BarLayout(frame, shown, categories, bar=28, right=24)
    scale_x = _scale(ticks[0], ticks[-1], layout.left, layout.right_x)
    parts = _x_grid(layout, ticks, decimals, scale_x)
    for i, (category, total) in enumerate(zip(categories, totals, strict=True)):
        y, x = layout.band_y(i), scale_x(0.0)
        parts.append(_category_label(layout, y + 14, category))
        for (name, vals), (_, color) in zip(segments, legend, strict=True):
            value = vals[i]
            if value <= 0:
                continue
            width = scale_x(value) - scale_x(0.0)
            share = value / total * 100
            parts.append(
                f'<rect class="segment" data-name="{esc(name)}" x="{x:.1f}" y="{y}" '
                f'width="{width:.1f}" height="28" fill="{color}" stroke="#fff" stroke-width="0.75">'
                f"<title>{esc(category)}, {esc(name)}: {fmt(value)} ({share:.1f}%)</title></rect>"
            )
            if width >= 34:
                parts.append(
                    _text(
                        x + width / 2,
                        y + 18,
                        f"{share:.0f}%",
                        size=11,
                        anchor="middle",
                        fill="#fff",
                    )
                )
            x += width
        parts.append(_text(x + 6, y + 18, fmt(total), size=12, weight="600"))
    return layout.svg(parts)


def bar_chart(
    frame: Frame,
    categories: Sequence[str],
    values: Sequence[float],
    *,
    fmt: Fmt = one_decimal,
    negative: str = "Negative",
    positive: str = "Positive",
) -> str:
    """Horizontal bars from a zero line: negative values to the left in one colour, positive to
    the right in another (named in the legend, each only when a bar has it)."""
    legend = [(negative, NEGATIVE)] if any(v < 0 for v in values) else []
    legend += [(positive, POSITIVE)] if any(v >= 0 for v in values) or not legend else []
    lo, hi = min([0.0, *values]), max([0.0, *values])
    ticks, decimals = nice_ticks(lo, hi)
    layout = _BarLayout(frame, legend, categories, bar=22, right=24, min_legend=1)
    scale_x = _scale(ticks[0], ticks[-1], layout.left, layout.right_x)
    parts = _x_grid(layout, ticks, decimals, scale_x)
    zero = scale_x(0.0)
    for i, (category, value) in enumerate(zip(categories, values, strict=True)):
        y = layout.band_y(i)
        parts.append(_category_label(layout, y + 11, category))
        end = scale_x(value)
        x, width = min(zero, end), abs(end - zero)
        color = NEGATIVE if value < 0 else POSITIVE
        parts.append(
            f'<rect class="bar" data-name="{esc(category)}" x="{x:.1f}" y="{y}" '
            f'width="{width:.1f}" height="22" fill="{color}">'
            f"<title>{esc(category)}: {fmt(value)}</title></rect>"
        )
        # The value sits inside the bar's end when it fits, otherwise just outside it.
        label = fmt(value)
        inside = width >= _text_width(label, 12) + 12
        if value < 0:
            lx, anchor = (end + 6, "start") if inside else (end - 6, "end")
        else:
            lx, anchor = (end - 6, "end") if inside else (end + 6, "start")
        parts.append(
            _text(lx, y + 15.5, label, size=12, anchor=anchor, fill="#fff" if inside else INK)
        )
    parts.append(
        f'<line class="zero-line" x1="{zero:.1f}" y1="{layout.top - 4}" x2="{zero:.1f}" '
        f'y2="{layout.bottom_y}" stroke="{INK}" stroke-width="1.5"/>'
    )
    return layout.svg(parts)


def grouped_bar_chart(
    frame: Frame,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    colors: Sequence[str] = PALETTE,
    fmt: Fmt = one_decimal,
    notes: Sequence[str] | None = None,
    notes_heading: str = "",
) -> str:
    """Horizontal bars side by side, one per series within each category (values >= 0; None =
    no bar). `notes` adds one short text per category in a right-hand column (e.g. the change)."""
    legend = [(name, colors[i % len(colors)]) for i, (name, _) in enumerate(series)]
    values = [v for _, vals in series for v in vals if v is not None]
    ticks, decimals = nice_ticks(0.0, max(values, default=0.0) * 1.12)
    bar = 14
    right = 80 if notes else 24
    layout = _BarLayout(frame, legend, categories, bar=bar * len(series) + 2, right=right)
    scale_x = _scale(ticks[0], ticks[-1], layout.left, layout.right_x)
    parts = _x_grid(layout, ticks, decimals, scale_x)
    if notes and notes_heading:
        parts.append(
            _text(WIDTH - PAD, layout.top - 8, notes_heading, size=11, anchor="end", fill=MUTED)
        )
    for i, category in enumerate(categories):
        y0 = layout.band_y(i)
        parts.append(_category_label(layout, y0 + layout.bar / 2, category))
        for j, ((name, vals), (_, color)) in enumerate(zip(series, legend, strict=True)):
            value, y = vals[i], y0 + j * (bar + 2)
            if value is None:
                continue
            width = scale_x(value) - scale_x(0.0)
            parts.append(
                f'<rect class="bar" data-name="{esc(name)}" x="{scale_x(0.0):.1f}" y="{y}" '
                f'width="{width:.1f}" height="{bar}" fill="{color}">'
                f"<title>{esc(category)}, {esc(name)}: {fmt(value)}</title></rect>"
            )
            parts.append(_text(scale_x(value) + 5, y + bar - 3, fmt(value), size=11))
        if notes:
            parts.append(
                _text(WIDTH - PAD, y0 + layout.bar / 2 + 4, notes[i], size=12, anchor="end")
            )
    return layout.svg(parts)


def nice_ticks(lo: float, hi: float, count: int = 5) -> tuple[list[float], int]:
    """Round axis ticks covering [lo, hi] (steps of 1, 2, 2.5 or 5 times a power of ten) and the
    number of decimals their labels need."""
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-9))
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    ticks = [round(k * step, 10) for k in range(first, last + 1)]
    decimals = 0
    while decimals < 6 and any(abs(t - round(t, decimals)) > 1e-9 for t in ticks):
        decimals += 1
    return ticks, decimals


# -- layout -----------------------------------------------------------------------------------


class _Layout:
    """Vertical layout of one chart: header, legend rows, plot area, axis room, footer."""

    def __init__(self, frame, legend, *, plot_height, left, right, bottom, min_legend=2):
        self.frame, self.left, self.right_x = frame, PAD + left, WIDTH - PAD - right
        shown = len(legend) >= min_legend
        self.legend = _legend(legend, PAD, 64, WIDTH - 2 * PAD) if shown else ([], 0)
        self.top = 64 + self.legend[1] + (14 if self.legend[1] else 4)
        self.bottom_y = self.top + plot_height
        self.height = self.bottom_y + bottom + 10 + 16 * len(frame.footer) + 6

    def svg(self, parts: list[str]) -> str:
        f, slug = self.frame, esc(self.frame.slug)
        footer_y = self.height - 6 - 16 * len(f.footer) + 12
        desc = " ".join([f.units.rstrip(".") + ".", *f.footer])
        head = [
            f'<svg class="chart" id="{slug}" role="img" aria-labelledby="{slug}-title {slug}-desc" '
            f'viewBox="0 0 {WIDTH} {self.height}" width="{WIDTH}" height="{self.height}" '
            f'font-family="{esc(FONT)}">',
            f'<title id="{slug}-title">{esc(f.title)}</title>',
            f'<desc id="{slug}-desc">{esc(desc)}</desc>',
            f'<rect width="{WIDTH}" height="{self.height}" fill="#fff"/>',
            _text(PAD, 26, f.title, size=17, weight="700", css="chart-title"),
            _text(PAD, 47, f.units, size=13, fill=MUTED, css="chart-units"),
            *self.legend[0],
        ]
        foot = [
            _text(PAD, footer_y + 16 * i, line, size=11.5, fill=MUTED, css="chart-footer")
            for i, line in enumerate(f.footer)
        ]
        return "".join(head + parts + foot) + "</svg>"


class _BarLayout(_Layout):
    """A layout of horizontal bands, one per category, with the category names on the left."""

    def __init__(self, frame, legend, categories, *, bar, right, min_legend=2):
        self.bar, self.gap = bar, 12
        left = max((_text_width(c, 12.5) for c in categories), default=0) + 14
        super().__init__(
            frame,
            legend,
            plot_height=len(categories) * (bar + self.gap) + self.gap,
            left=left,
            right=right,
            bottom=28,
            min_legend=min_legend,
        )

    def band_y(self, i: int) -> float:
        return self.top + self.gap + i * (self.bar + self.gap)


def _legend(items, x0, y0, width) -> tuple[list[str], int]:
    """Swatch + name items, wrapped into rows; returns the SVG parts and the height used."""
    parts, x, y = [], x0, y0
    for name, color in items:
        item = 16 + _text_width(name, 12.5) + 18
        if x > x0 and x + item > x0 + width:
            x, y = x0, y + 20
        parts.append(
            f'<g class="legend-item"><rect x="{x:.1f}" y="{y - 10}" width="12" height="12" rx="2" '
            f'fill="{color}"/>{_text(x + 17, y, name, size=12.5)}</g>'
        )
        x += item
    return ['<g class="legend">', *parts, "</g>"], (y - y0 + 20) if items else 0


def _y_grid(layout, ticks, decimals, scale_y) -> list[str]:
    parts = []
    for t in ticks:
        y = scale_y(t)
        parts.append(
            f'<line x1="{layout.left}" y1="{y:.1f}" x2="{layout.right_x}" y2="{y:.1f}" '
            f'stroke="{INK if t == 0 else GRID}" stroke-width="1"/>'
        )
        parts.append(
            _text(layout.left - 8, y + 4, _number(t, decimals), size=12, anchor="end", fill=MUTED)
        )
    return ['<g class="axis y-axis">', *parts, "</g>"]


def _x_grid(layout, ticks, decimals, scale_x) -> list[str]:
    parts = []
    for t in ticks:
        x = scale_x(t)
        parts.append(
            f'<line x1="{x:.1f}" y1="{layout.top}" x2="{x:.1f}" y2="{layout.bottom_y}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        parts.append(
            _text(
                x, layout.bottom_y + 18, _number(t, decimals), size=12, anchor="middle", fill=MUTED
            )
        )
    return ['<g class="axis x-axis">', *parts, "</g>"]


def _x_labels(layout, xs, labels) -> list[str]:
    parts = [
        f'<line x1="{layout.left}" y1="{layout.bottom_y}" x2="{layout.right_x}" '
        f'y2="{layout.bottom_y}" stroke="{INK}" stroke-width="1"/>'
    ]
    # Thin the labels out when they would collide (many years on a narrow axis), counting from
    # the newest so that it is always labelled.
    widest = max((_text_width(line, 12) for s in labels for line in s.split("\n")), default=0)
    room = (xs[1] - xs[0]) if len(xs) > 1 else widest + 1
    every = max(1, math.ceil((widest + 8) / room))
    for i, (x, label) in enumerate(zip(xs, labels, strict=True)):
        if (len(labels) - 1 - i) % every:
            continue
        parts.append(_text(x, layout.bottom_y + 18, label, size=12, anchor="middle", fill=MUTED))
    return ['<g class="axis x-axis">', *parts, "</g>"]


def _x_ticks(layout, xs, ticks: dict[int, str]) -> list[str]:
    """The x axis with a tick and a label at the given positions only ({index: label}), thinned
    out from the newest when they would collide."""
    parts = [
        f'<line x1="{layout.left}" y1="{layout.bottom_y}" x2="{layout.right_x}" '
        f'y2="{layout.bottom_y}" stroke="{INK}" stroke-width="1"/>'
    ]
    at = sorted(ticks)
    widest = max((_text_width(label, 12) for label in ticks.values()), default=0)
    room = min((xs[b] - xs[a] for a, b in zip(at, at[1:], strict=False)), default=widest + 8)
    every = max(1, math.ceil((widest + 8) / room))
    for k, i in enumerate(at):
        if (len(at) - 1 - k) % every:
            continue
        parts.append(
            f'<line class="x-tick" x1="{xs[i]:.1f}" y1="{layout.bottom_y}" x2="{xs[i]:.1f}" '
            f'y2="{layout.bottom_y + 5}" stroke="{INK}" stroke-width="1"/>'
        )
        parts.append(
            _text(xs[i], layout.bottom_y + 18, ticks[i], size=12, anchor="middle", fill=MUTED)
        )
    return ['<g class="axis x-axis">', *parts, "</g>"]


def _category_label(layout, y_mid, text) -> str:
    return _text(layout.left - 8, y_mid + 4.5, text, size=12.5, anchor="end", css="category")


def _spread(n: int, lo: float, hi: float, inset: float) -> list[float]:
    if n == 1:
        return [(lo + hi) / 2]
    step = (hi - lo - 2 * inset) / (n - 1)
    return [lo + inset + i * step for i in range(n)]


def _scale(d0: float, d1: float, r0: float, r1: float) -> Callable[[float], float]:
    return lambda v: r0 + (v - d0) / (d1 - d0) * (r1 - r0)


def _spaced(items, gap, low, high):
    """Labels (y, text, color) moved apart to at least `gap` px, kept within [low, high]."""
    items = sorted(items)
    out = []
    for y, text, color in items:
        y = max(y, low, out[-1][0] + gap if out else low)
        out.append((y, text, color))
    # If the last ones ran past the bottom, push back up.
    for i in range(len(out) - 1, -1, -1):
        limit = high if i == len(out) - 1 else out[i + 1][0] - gap
        if out[i][0] > limit:
            out[i] = (limit, *out[i][1:])
    return out


def _text(x, y, text, *, size, anchor="start", fill=INK, weight=None, css=None) -> str:
    """A <text> element; a label with newlines becomes stacked lines (<tspan>)."""
    attrs = f'x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}"'
    if anchor != "start":
        attrs += f' text-anchor="{anchor}"'
    if weight:
        attrs += f' font-weight="{weight}"'
    if css:
        attrs += f' class="{css}"'
    lines = str(text).split("\n")
    if len(lines) == 1:
        return f"<text {attrs}>{esc(lines[0])}</text>"
    spans = "".join(
        f'<tspan x="{x:.1f}" dy="{0 if i == 0 else size * 1.15:.1f}">{esc(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return f"<text {attrs}>{spans}</text>"


def _number(value: float, decimals: int) -> str:
    text = f"{value:,.{decimals}f}"
    return "0" if text.strip("-0.,") == "" else text.replace("-", "\u2212")


def _wrap(text: str, width: float, size: float = 12.5) -> list[str]:
    """`text` in at most two lines of about `width` px (at `size`), broken at spaces."""
    if _text_width(text, size) <= width or " " not in text:
        return [text]
    words, first = text.split(" "), []
    while words and _text_width(" ".join([*first, words[0]]), size) <= width:
        first.append(words.pop(0))
    if not first:
        first.append(words.pop(0))
    return [" ".join(first), " ".join(words)] if words else [" ".join(first)]


def _ramp(t: float) -> str:
    """A colour on RAMP, t in [0, 1] (square root: small shares still differ from none)."""
    t = math.sqrt(min(max(t, 0.0), 1.0))
    a, b = (tuple(int(c[i : i + 2], 16) for i in (1, 3, 5)) for c in RAMP)
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b, strict=True))


def _luminance(color: str) -> float:
    r, g, b = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _text_width(text: str, size: float) -> float:
    # A rough average glyph width for sans-serif faces; enough to reserve room for labels.
    return len(text) * size * 0.56


def esc(text: str) -> str:
    return escape(str(text), quote=True)
