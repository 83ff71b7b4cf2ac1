"""Renders a stored quantity's timeline to a PNG or SVG file with matplotlib (Agg backend).

It takes plain rows (storage.archive.TimelineRow), never touches the database, and imports
matplotlib only when called, so commands that do not plot do not pay for it. One marker per
report, coloured by attribution (outlet when nobody is credited); forecasts are hollow markers;
the current value is a step line through the reports that set it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from newsmon.errors import NewsmonError
from newsmon.storage.archive import TimelineRow

PLOT_SUFFIXES = (".png", ".svg")
MAX_LEGEND_ENTRIES = 12
# statuses of reports that set the current value (see alerts/detect.py)
SETTING_STATUSES = ("new", "changed", "revised")


class PlotError(NewsmonError, ValueError):
    """The plot cannot be drawn as asked; str() says why."""


def current_value_steps(rows: Sequence[TimelineRow]) -> list[TimelineRow]:
    """The reports that set the current value: counts (not forecasts) that alerts/ marked new,
    changed or revised; when nothing was assessed yet, every count."""
    counts = [row for row in rows if not row.projection]
    setting = [row for row in counts if row.status in SETTING_STATUSES]
    if setting or any(row.status is not None for row in counts):
        return setting
    return counts


def render_timeline(rows: Sequence[TimelineRow], path: Path, label: str | None = None) -> Path:
    """Draw the reports of one quantity into `path` (.png or .svg); returns the path."""
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise PlotError(f"--plot {path}: the file name must end in .png or .svg")
    if not rows:
        raise PlotError("nothing to plot: no reports match")
    quantities = sorted({row.quantity for row in rows})
    if len(quantities) > 1:
        raise PlotError(
            f"a plot shows one quantity, these reports hold {len(quantities)} "
            f"({', '.join(quantities)}); choose one with --quantity"
        )

    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(10, 5.5), dpi=100)
    try:
        sources = sorted({_credited(row) for row in rows})
        palette = plt.get_cmap("tab10" if len(sources) <= 10 else "tab20")
        colours = {name: palette(index % palette.N) for index, name in enumerate(sources)}
        for name in sources:
            for forecast in (False, True):
                mine = [r for r in rows if _credited(r) == name and r.projection == forecast]
                if not mine:
                    continue
                # matplotlib's stubs omit the unit converters that plot datetimes
                axes.scatter(
                    [r.date for r in mine],  # type: ignore[arg-type]
                    [r.value for r in mine],
                    s=48,
                    marker="o",
                    facecolors="none" if forecast else colours[name],
                    edgecolors=colours[name],
                    linewidths=1.5,
                    zorder=3,
                    label=_legend_label(name, forecast),
                )
                for r in mine:  # ranges and vague amounts: their span as a bar
                    if r.low is not None and r.high is not None:
                        axes.vlines(
                            r.date,  # type: ignore[arg-type]  # a datetime, as for scatter
                            r.low,
                            r.high,
                            colors=colours[name],
                            alpha=0.4,
                        )
        steps = current_value_steps(rows)
        if steps:
            dates = [r.date for r in steps] + [max(r.date for r in rows)]
            values = [r.value for r in steps] + [steps[-1].value]
            axes.step(
                dates,  # type: ignore[arg-type]  # datetimes, as for scatter
                values,
                where="post",
                color="0.2",
                linewidth=1.2,
                zorder=2,
                label="current value",
            )
        units = sorted({row.unit for row in rows if row.unit})
        axes.set_title(label or quantities[0])
        axes.set_xlabel("date reported (UTC)")
        axes.set_ylabel(f"value ({', '.join(units)})" if units else "value")
        if min(row.low if row.low is not None else row.value for row in rows) >= 0:
            axes.set_ylim(bottom=0)  # counts: a zero baseline keeps changes in proportion
        axes.margins(x=0.05)
        locator = mdates.AutoDateLocator()
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        axes.yaxis.set_major_formatter(
            matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:,.0f}")
        )
        axes.grid(True, alpha=0.3)
        handles, labels = axes.get_legend_handles_labels()
        if len(labels) > MAX_LEGEND_ENTRIES:
            handles, labels = handles[:MAX_LEGEND_ENTRIES], labels[:MAX_LEGEND_ENTRIES]
            labels[-1] = "… more sources"
        axes.legend(handles, labels, fontsize="small", loc="best")
        figure.autofmt_xdate()
        figure.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path)
    finally:
        plt.close(figure)
    return path


def _credited(row: TimelineRow) -> str:
    return row.attribution or (f"{row.outlet} (unattributed)" if row.outlet else "unattributed")


def _legend_label(name: str, forecast: bool) -> str:
    short = name if len(name) <= 40 else name[:39] + "…"
    return f"{short} (forecast)" if forecast else short
