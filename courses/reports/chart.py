"""The completions chart, drawn as inline SVG on the server: no script, no chart library.

Horizontal bars, one row per week, month or year, because a row's label and number stay
readable at any width: the SVG has no viewBox, bar lengths are percentages of its width
and text keeps its size, so on a 320 px phone nothing shrinks and nothing scrolls
sideways. Passed and not passed differ by pattern (solid, hatched) as well as colour
(WCAG 1.4.1); every number is written beside its bar and again in the table alternative.
"""

from __future__ import annotations

from dataclasses import dataclass

from courses.reports.services import Series

ROW_HEIGHT = 46
TEXT_OFFSET = 17  # baseline of a row's label, from the row's top
BAR_OFFSET = 24
BAR_HEIGHT = 14
LEGEND_HEIGHT = 34
#: The longest bar ends here (percent of the width), leaving a little air on the right.
FULL = 98.0

UNIT_NAMES = {"week": "week (starting Monday)", "month": "month", "year": "year"}


@dataclass(frozen=True)
class ChartRow:
    text: str
    text_y: int
    bar_y: int
    passed_width: float  # percent of the chart's width
    not_passed_x: float
    not_passed_width: float


@dataclass(frozen=True)
class Chart:
    rows: tuple[ChartRow, ...]
    height: int
    legend_y: int
    title: str
    description: str
    bar_height: int = BAR_HEIGHT


def _number(n: int) -> str:
    return f"{n:,}"


def completions_chart(series: Series, period_label: str) -> Chart:
    peak = series.peak or 1
    rows = []
    for index, bucket in enumerate(series.buckets):
        top = LEGEND_HEIGHT + index * ROW_HEIGHT
        passed = FULL * bucket.passed / peak
        not_passed = FULL * bucket.not_passed / peak
        text = f"{_short_label(bucket.label, series.unit)}: {_number(bucket.total)}"
        if bucket.not_passed:
            text += f" ({_number(bucket.not_passed)} not passed)"
        rows.append(
            ChartRow(
                text=text,
                text_y=top + TEXT_OFFSET,
                bar_y=top + BAR_OFFSET,
                passed_width=round(passed, 2),
                not_passed_x=round(passed, 2),
                not_passed_width=round(not_passed, 2),
            )
        )
    passed_total = sum(b.passed for b in series.buckets)
    title = f"Completions per {UNIT_NAMES[series.unit]}, {period_label.lower()}"
    description = (
        f"{_number(series.total)} completions in total, {_number(passed_total)} passed and "
        f"{_number(series.total - passed_total)} not passed."
    )
    if series.buckets:
        busiest = max(series.buckets, key=lambda b: b.total)
        if busiest.total:
            description += f" Busiest: {busiest.label} ({busiest.total:,})."
    return Chart(
        rows=tuple(rows),
        height=LEGEND_HEIGHT + len(rows) * ROW_HEIGHT,
        legend_y=8,
        title=title,
        description=description,
    )


def _short_label(label: str, unit: str) -> str:
    return label.removeprefix("Week of ") if unit == "week" else label
