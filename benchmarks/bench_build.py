"""Build the real casebook several times; report median build time, page count and index size.

Run: .venv/bin/python benchmarks/bench_build.py [runs]   (not part of the test suite)
"""

from __future__ import annotations

import gzip
import statistics
import sys
import tempfile
import time
from pathlib import Path

from casebook.mkdocs_plugin import build

ROOT = Path(__file__).resolve().parents[1]


def main(runs: int = 5) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            build(ROOT / "mkdocs.yml", site)
            times.append(time.perf_counter() - start)
        pages = len(list(site.rglob("*.html")))
        index = site / "search" / "search_index.json"
        raw = index.read_bytes()
        print("| builds | median (s) | min (s) | max (s) | HTML pages | search index | gzip |\n|---:|---:|---:|---:|---:|---:|---:|")
        print(f"| {runs} | {statistics.median(times):.2f} | {min(times):.2f} | {max(times):.2f} | {pages} "
              f"| {len(raw) / 1024:.0f} KB | {len(gzip.compress(raw)) / 1024:.0f} KB |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
