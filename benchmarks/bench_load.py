"""Median time to load and validate each real case file, and the whole casebook.

Run: .venv/bin/python benchmarks/bench_load.py   (not part of the test suite; machines are noisy)
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from casebook.loader import load_file
from casebook.models import FILE_MODELS
from casebook.validate import discover, file_kind, load_casebook

CASES = Path(__file__).resolve().parents[1] / "cases"
RUNS = 50


def median_ms(fn) -> float:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def main() -> None:
    print(f"| file | bytes | load + validate, median of {RUNS} (ms) |\n|---|---:|---:|")
    for path in discover(CASES):
        model = FILE_MODELS[file_kind(path.relative_to(CASES))]

        def one(path=path, model=model):
            loaded, _ = load_file(path)
            model.model_validate(loaded.data)

        print(f"| {path.relative_to(CASES)} | {path.stat().st_size} | {median_ms(one):.2f} |")
    print(f"| whole casebook (check) | | {median_ms(lambda: load_casebook(CASES)):.2f} |")


if __name__ == "__main__":
    main()
