"""Editions benchmark: the overlay skeleton, the internal build and the leak check on synthetic
(FICTIONAL) casebooks. For each size: how many desensitised figures `overlay init` lists, the time
it takes, and, as medians of warm builds (cache filled, site published), a plain public build, the
public build with `--leak-check` (the time the scan adds, and the scan alone as the build logs it),
and the internal edition's build.

Run:  .venv/bin/python benchmarks/editions.py [--sizes 100,1000] [--runs 3]
Writes benchmarks/EDITIONS.md. Not part of the test suite: figures are medians, never assertions.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))

from make_fictional_overlay import fill  # noqa: E402
from province import make_project  # noqa: E402

CASEBOOK = str(Path(sys.executable).with_name("casebook"))


def run(args: list[str], cwd: Path) -> tuple[float, str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    start = time.perf_counter()
    proc = subprocess.run([CASEBOOK, *args], cwd=cwd, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"casebook {' '.join(args)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return seconds, proc.stdout + proc.stderr


def measure(clusters: int, runs: int, tmp: Path) -> dict:
    project = make_project(tmp, clusters)
    overlay = tmp / f"overlay-{clusters}"
    seconds, out = run(["overlay", "init", str(overlay)], project)
    figures = int(re.search(r"脱敏数据 (\d+) 项", out).group(1))  # type: ignore[union-attr]
    names = int(re.search(r"脱敏名称 (\d+) 个", out).group(1))  # type: ignore[union-attr]
    fill(overlay)
    result = {"clusters": clusters, "figures": figures, "names": names, "init": seconds}
    run(["build"], project)  # cold: fills the cache
    run(["build", "--overlay", str(overlay)], project)
    plain, checked, scan, internal = [], [], [], []
    for _ in range(runs):
        plain.append(run(["build"], project)[0])
        t, out = run(["build", "--leak-check", str(overlay)], project)
        checked.append(t)
        found = re.search(r"查找 (\d+) 项内部数据，均未出现（用时 ([\d.]+) 秒）", out)
        assert found, out[-500:]
        result["secrets"] = int(found.group(1))
        scan.append(float(found.group(2)))
        internal.append(run(["build", "--overlay", str(overlay)], project)[0])
    result.update(plain=statistics.median(plain), checked=statistics.median(checked), scan=statistics.median(scan),
                  internal=statistics.median(internal))
    files = [p for p in (project / "site").rglob("*") if p.is_file()]
    result.update(files=len(files), megabytes=sum(p.stat().st_size for p in files) / 1e6)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="casebook-editions-") as tmp:
        for n in (int(x) for x in args.sizes.split(",")):
            results.append(measure(n, args.runs, Path(tmp) / str(n)))
            print(results[-1], flush=True)
    lines = ["# Editions benchmark", "",
             f"Machine: {platform.node()} · {platform.system()} {platform.machine()} · {os.cpu_count()} cores · "
             f"Python {platform.python_version()}  ",
             f"Date: {time.strftime('%Y-%m-%d')}  ",
             f"Command: `.venv/bin/python benchmarks/editions.py --sizes {args.sizes} --runs {args.runs}`  ",
             f"Medians of {args.runs} warm builds (cache filled, site published). Data: synthetic, fictional; "
             "the overlay is the skeleton filled with fictional values (tests/fixtures/make_fictional_overlay.py).", "",
             "| clusters | figures listed by `overlay init` | masked names | init (s) | secrets searched | "
             "public build (s) | with `--leak-check` (s) | added (s) | scan alone (s) | published files (MB) | "
             "internal build (s) |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['clusters']} | {r['figures']} | {r['names']} | {r['init']:.1f} | {r['secrets']} | "
                     f"{r['plain']:.1f} | {r['checked']:.1f} | {r['checked'] - r['plain']:.1f} | {r['scan']:.1f} | "
                     f"{r['files']} ({r['megabytes']:.0f}) | {r['internal']:.1f} |")
    (HERE / "EDITIONS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
