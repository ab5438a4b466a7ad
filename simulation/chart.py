"""The README chart: golden-time compliance, coverage over the day, response-time curves."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: files only

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from simulation.errors import SimulationError
from simulation.run import SimulationReport

# Latin names: the chart's font has no Hangul glyphs.
GU_EN = {
    "강남구": "Gangnam", "강동구": "Gangdong", "강북구": "Gangbuk", "강서구": "Gangseo",
    "관악구": "Gwanak", "광진구": "Gwangjin", "구로구": "Guro", "금천구": "Geumcheon",
    "노원구": "Nowon", "도봉구": "Dobong", "동대문구": "Dongdaemun", "동작구": "Dongjak",
    "마포구": "Mapo", "서대문구": "Seodaemun", "서초구": "Seocho", "성동구": "Seongdong",
    "성북구": "Seongbuk", "송파구": "Songpa", "양천구": "Yangcheon", "영등포구": "Yeongdeungpo",
    "용산구": "Yongsan", "은평구": "Eunpyeong", "종로구": "Jongno", "중구": "Jung",
    "중랑구": "Jungnang",
}  # fmt: skip
COLOURS = {"nearest": "#9e9e9e", "eta": "#1f77b4", "eta+moveup": "#d62728"}


def _by_gu(axis: Axes, report: SimulationReport, names: list[str]) -> None:
    """On scene within 7 min per gu, grouped bars per policy, worst gu (first policy) first."""
    first = report.results[names[0]]["by_gu"]
    gus = sorted(first, key=lambda g: (first[g]["on_scene_within_7min_pct"], g))
    if not gus:
        return
    x = np.arange(len(gus))
    width = 0.8 / len(names)
    for n, name in enumerate(names):
        by_gu = report.results[name]["by_gu"]
        axis.bar(
            x + (n - (len(names) - 1) / 2) * width,
            [by_gu.get(g, {}).get("on_scene_within_7min_pct", np.nan) for g in gus],
            width,
            color=COLOURS.get(name),
            label=name,
        )
    for figure in report.published:
        axis.axhline(figure.within_7min_pct, color="black", linewidth=0.8, linestyle="--")
    labels = [
        f"{GU_EN.get(g, g)}{'' if first[g]['on_network'] else '*'}\n{first[g]['incidents']}"
        for g in gus
    ]
    axis.set_xticks(x, labels, fontsize=7, rotation=35, ha="right")
    low = min(
        (
            v["on_scene_within_7min_pct"]
            for r in report.results.values()
            for v in r["by_gu"].values()
        ),
        default=0.0,
    )
    axis.set_ylim(max(0.0, low - 5), 101)
    axis.set_ylabel("% on scene <= 7 min")
    off = [GU_EN.get(g, g) for g in gus if not first[g]["on_network"]]
    note = f"; * {', '.join(off)}: not in the road network (approach-leg estimate)" if off else ""
    axis.set_title(
        f"By gu (calls under each name; dashed: Seoul's published fire figures){note}", fontsize=9
    )
    axis.legend(fontsize=8, loc="lower right", ncol=len(names))


def save_chart(report: SimulationReport, path: Path, *, title: str = "") -> Path:
    """Write a PNG of ``report`` to ``path`` (parent directories are created)."""
    names = list(report.results)
    if not names:
        raise SimulationError("nothing to chart: no policy was run")
    fig = plt.figure(figsize=(15, 9.4))
    grid = fig.add_gridspec(2, 3, height_ratios=(1.0, 1.0))
    bars, cover, cdf = (fig.add_subplot(grid[0, i]) for i in range(3))
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
    for figure in report.published:
        bars.axhline(figure.within_7min_pct, color="black", linewidth=0.8, linestyle="--")
    if report.published:
        low = min(f.within_7min_pct for f in report.published)
        bars.annotate(
            "Seoul fires within 7 min: "
            + ", ".join(f"{f.within_7min_pct:.1f}% ({f.period})" for f in report.published),
            (x[-1] + width, low),
            fontsize=7,
            ha="right",
            va="top",
        )
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

    _by_gu(fig.add_subplot(grid[1, :]), report, names)
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
