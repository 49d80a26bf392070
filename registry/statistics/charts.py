"""Bar charts as SVG, rendered on the server by pygal (no script runs in the browser)."""

from __future__ import annotations

import math

import pygal
from pygal.style import Style

from registry.statistics.tables import Table

_STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1b1f24",
    foreground_strong="#1b1f24",
    foreground_subtle="#d5dbe1",
    colors=("#0b6bcb",),
    font_family="system-ui, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    value_font_size=13,
    title_font_size=16,
)


def bar_chart(table: Table) -> str:
    shown = table.chart_rows
    horizontal = len(shown) > 6 or max((len(label) for label, _ in shown), default=0) > 18
    chart_class = pygal.HorizontalBar if horizontal else pygal.Bar
    chart = chart_class(
        style=_STYLE,
        js=[],  # shown as an <img>: no script, and our CSP would refuse one anyway
        show_legend=False,
        print_values=True,
        width=640,
        height=max(260, 34 * len(shown) + 80) if horizontal else 320,
        title=table.title,
        disable_xml_declaration=False,
        truncate_label=-1,
    )
    rows = list(reversed(shown)) if horizontal else shown  # pygal draws the first bar lowest
    chart.x_labels = [label for label, _count in rows]
    chart.add("Aantal", [count for _label, count in rows])
    # counts are whole numbers: whole-number ticks only
    highest = max((count for _label, count in rows), default=0)
    step = max(1, math.ceil(highest / 8))
    chart.y_labels = list(range(0, highest + step + 1, step))
    return str(chart.render(is_unicode=True))
