"""Chart rendering cost and cache behaviour on the fictional numeric casebook.

Run: .venv/bin/python benchmarks/bench_charts.py [runs]   (not part of the test suite)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from casebook.site import prepare_site

FIGURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "fictional_figures"


def main(runs: int = 5) -> None:
    cold, warm, per_chart = [], [], []
    rendered = cached = 0
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            first = prepare_site(FIGURES, chart_cache=Path(tmp))
            cold.append(time.perf_counter() - start)
            per_chart.append(first.chart_stats.seconds / max(first.chart_stats.rendered, 1))
            start = time.perf_counter()
            second = prepare_site(FIGURES, chart_cache=Path(tmp))
            warm.append(time.perf_counter() - start)
            rendered, cached = second.chart_stats.rendered, second.chart_stats.cached
    print("| charts | draw per chart, SVG (s) | site, cold cache (s) | site, warm cache (s) | warm: rendered / from cache |")
    print("|---:|---:|---:|---:|---|")
    print(f"| {first.chart_stats.rendered} | {statistics.median(per_chart):.3f} | {statistics.median(cold):.2f} "
          f"| {statistics.median(warm):.2f} | {rendered} / {cached} (hit rate {second.chart_stats.hit_rate:.0%}) |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
