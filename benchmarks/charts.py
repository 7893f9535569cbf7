"""The report's PNG charts (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

OURS, BASELINE = "#2a7ab0", "#c8553d"


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def throughput_vs_concurrency(report: Mapping[str, Any], path: Path) -> None:
    """Details/s of full syncs at the headline rate and page size, by detail concurrency."""
    headline = report.get("sync_full", {})
    rate = headline.get("rate_per_s")
    points = []
    for row in report["matrix"]["sync"]:
        if row["kind"] != "fresh" or row["rate_per_s"] != rate or row["page_size"] != 500:
            continue
        value = _number(row["details_per_second"])
        if value is None:
            continue
        label = f"{row['concurrency']}" if row["client"] == "ours" else (
            f"baseline\n{row['concurrency']} threads\n{row.get('backoff_base_seconds') or '?'} s backoff")
        if row["concurrency"] == "adaptive":
            label = f"adaptive\n(peak {row['peak_concurrency']})"
        order = row["concurrency"] if isinstance(row["concurrency"], int) else 1_000
        points.append((row["client"] != "ours", order, label, value, row["client"]))
    points.sort()
    figure, axes = plt.subplots(figsize=(8, 4.5))
    labels = [p[2] for p in points]
    axes.bar(labels, [p[3] for p in points], color=[OURS if p[4] == "ours" else BASELINE for p in points])
    for index, point in enumerate(points):
        axes.text(index, point[3], f"{point[3]:.1f}", ha="center", va="bottom")
    if _number(rate):
        axes.axhline(float(rate), color="grey", linestyle="--", linewidth=1)
        axes.text(-0.4, float(rate), f"rate limit {rate:g}/s", va="bottom", ha="left", color="grey")
        axes.set_ylim(0, float(rate) * 1.2)
    axes.set_ylabel("details fetched per second (wall)")
    axes.set_title(f"Throughput vs concurrency ({headline.get('products')} products, {rate} req/s)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def latency_percentiles(report: Mapping[str, Any], path: Path) -> None:
    """p50/p95/p99 per stage, in milliseconds, log scale."""
    ours, baseline, packages = report.get("sync_full", {}), report.get("sync_full_baseline", {}), report.get("packages", {})
    stages = [
        ("search (ours)", [ours.get("search_p50_ms"), ours.get("search_p95_ms"), ours.get("search_p99_ms")]),
        ("detail (ours)", [ours.get("detail_p50_ms"), ours.get("detail_p95_ms"), ours.get("detail_p99_ms")]),
        ("detail (baseline)", [baseline.get("detail_p50_ms"), baseline.get("detail_p95_ms"),
                               baseline.get("detail_p99_ms")]),
        (f"package build\n({packages.get('images')} images)",
         [_ms(packages.get("build_p50_seconds")), _ms(packages.get("build_p95_seconds")), None]),
    ]
    figure, axes = plt.subplots(figsize=(8, 4))
    width = 0.25
    for index, (name, colour) in enumerate((("p50", "#7fb3d5"), ("p95", "#2a7ab0"), ("p99", "#154360"))):
        xs = [position + (index - 1) * width for position in range(len(stages))]
        values = [_number(values[index]) or 0.0 for _, values in stages]
        axes.bar(xs, values, width=width, label=name, color=colour)
    axes.set_xticks(range(len(stages)), [name for name, _ in stages])
    axes.set_yscale("symlog", linthresh=1.0)
    axes.set_ylabel("milliseconds (pacer waits excluded)")
    axes.set_title("Latency per stage")
    axes.legend(loc="upper left")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _ms(seconds: Any) -> float | None:
    value = _number(seconds)
    return None if value is None else value * 1000


def ratio_429(report: Mapping[str, Any], path: Path) -> None:
    rows = report["matrix"]["sync"]
    figure, axes = plt.subplots(figsize=(8, 4))
    labels = [row["run"].removeprefix("sync_") for row in rows]
    values = [_number(row["ratio_429"]) or 0.0 for row in rows]
    axes.bar(labels, values, color=[OURS if row["client"] == "ours" else BASELINE for row in rows])
    for index, value in enumerate(values):
        axes.text(index, value, f"{value:.3f}", ha="center", va="bottom", fontsize=8)
    axes.axhline(0.005, color="grey", linestyle="--", linewidth=1)
    axes.text(len(rows) - 0.5, 0.005, " target 0.005", va="bottom", ha="right", color="grey")
    axes.set_ylabel("429 responses / all API responses")
    axes.set_title("429 ratio per sync run (blue: ours, red: baseline client)")
    axes.tick_params(axis="x", labelrotation=30)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_charts(report: Mapping[str, Any], out_dir: Path) -> list[Path]:
    written = []
    for name, draw in (("throughput_vs_concurrency.png", throughput_vs_concurrency),
                       ("latency_percentiles.png", latency_percentiles), ("ratio_429.png", ratio_429)):
        path = out_dir / name
        draw(report, path)
        written.append(path)
    return written
