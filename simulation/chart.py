"""The README chart: golden-time compliance, coverage over the day, response-time curves."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: files only

import matplotlib.pyplot as plt
import numpy as np

from simulation.errors import SimulationError
from simulation.run import SimulationReport

COLOURS = {"nearest": "#9e9e9e", "eta": "#1f77b4", "eta+moveup": "#d62728"}


def save_chart(report: SimulationReport, path: Path, *, title: str = "") -> Path:
    """Write a PNG of ``report`` to ``path`` (parent directories are created)."""
    names = list(report.results)
    if not names:
        raise SimulationError("nothing to chart: no policy was run")
    fig, (bars, cover, cdf) = plt.subplots(1, 3, figsize=(15, 4.6))
    width = 0.38
    x = np.arange(len(names))
    travel = [report.results[n]["travel_within_5min_pct"] for n in names]
    scene = [report.results[n]["on_scene_within_7min_pct"] for n in names]
    for offset, values, label in (
        (-width / 2, travel, "travel <= 5 min"),
        (width / 2, scene, "on scene <= 7 min of the call"),
    ):
        drawn = bars.bar(x + offset, values, width, label=label)
        bars.bar_label(drawn, fmt="%.1f", fontsize=8)
    bars.axhline(95, color="black", linewidth=0.8, linestyle="--")
    bars.set_xticks(x, names)
    bars.set_ylim(min([*travel, *scene, 90.0]) - 5, 101)
    bars.set_ylabel("% of incidents (first unit)")
    bars.set_title("Golden-time compliance")
    bars.legend(loc="lower right", fontsize=8)

    for name in names:
        series = report.series[name]
        hours = [p["t_s"] / 3600 for p in series]
        cover.step(
            hours,
            [p.get("ambulance", np.nan) for p in series],
            where="post",
            color=COLOURS.get(name),
            label=f"{name}: ambulance",
        )
        cover.step(
            hours,
            [p.get("engine", np.nan) for p in series],
            where="post",
            color=COLOURS.get(name),
            linestyle=":",
            label=f"{name}: engine",
        )
    cover.set_xlabel("hour of the day")
    cover.set_ylabel("% of road length within 5 min")
    cover.set_title("Coverage by available units")
    cover.legend(fontsize=7, ncol=2, loc="lower left")

    for name in names:
        times = np.sort([o.on_scene_s / 60 for o in report.outcomes[name]])
        if times.size:
            cdf.step(
                times,
                np.arange(1, times.size + 1) / times.size * 100,
                where="post",
                color=COLOURS.get(name),
                label=name,
            )
    cdf.axvline(7, color="black", linewidth=0.8, linestyle="--")
    cdf.set_xlim(0, 15)
    cdf.set_xlabel("call -> first unit on scene (min)")
    cdf.set_ylabel("% of incidents")
    cdf.set_title("Response time")
    cdf.legend(fontsize=8, loc="lower right")

    fig.suptitle(
        title
        or f"Golden Time simulation: {len(report.calls)} incidents, "
        f"{report.hours:g} h, seed {report.seed}"
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fig.savefig(path, dpi=110)
    except OSError as err:
        raise SimulationError(f"cannot write chart {path}: {err}") from err
    finally:
        plt.close(fig)
    return path
