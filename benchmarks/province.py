"""Province-scale benchmark: synthetic (FICTIONAL) casebooks of 10, 100 and 1,000 clusters.

Measures, as medians over several runs: full build (cold chart cache), rebuild after one case edit,
no-op rebuild, peak memory, generator time vs MkDocs time, charts rendered, search index size,
first-search latency in headless Chromium, and gzip bytes a case page transfers (search index
excluded). Prints a table and writes benchmarks/RESULTS.md with the machine it ran on.

Run:  .venv/bin/python benchmarks/province.py [--sizes 10,100,1000] [--runs 3]
Not part of the test suite: machines are shared and noisy, so figures are medians, never assertions.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests"))

from synthetic import write_casebook  # noqa: E402

CHILD = r"""
import json, logging, resource, sys, time
from pathlib import Path
from casebook.mkdocs_plugin import build
messages = []
class Grab(logging.Handler):
    def emit(self, record):
        messages.append(record.getMessage())
for name in ("mkdocs.plugins.casebook", "casebook"):  # the plugin's logger, and the build session's
    logging.getLogger(name).addHandler(Grab())
logging.getLogger("casebook").setLevel(logging.INFO)
start = time.perf_counter()
build(Path(sys.argv[1]), Path(sys.argv[2]), verbose=True)
total = time.perf_counter() - start
# The build's own peak plus its helper process's (downloads): an upper bound of what it held at once.
self_use, child_use = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
# CPU seconds of the build and its helper process: steadier than the wall clock on a shared machine.
cpu = self_use.ru_utime + self_use.ru_stime + child_use.ru_utime + child_use.ru_stime
print(json.dumps({"total": total, "log": messages, "cpu": cpu,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                               + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""
LOG = re.compile(r"(\d+) pages generated in ([\d.]+) s; charts (\d+) rendered, (\d+) from cache")


def build_once(project: Path) -> dict:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run([sys.executable, "-c", CHILD, str(project / "mkdocs.yml"), str(project / "site")],
                          capture_output=True, text=True, env=env, cwd=project, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"build failed:\n{proc.stderr[-3000:]}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    m = next((LOG.search(line) for line in data["log"] if LOG.search(line)), None)
    if m is None:  # nothing changed since the last build: no page generated, nothing written
        data.update(pages=0, generator=0.0, rendered=0, cached=0)
    else:
        data.update(pages=int(m.group(1)), generator=float(m.group(2)), rendered=int(m.group(3)),
                    cached=int(m.group(4)))
    data["mkdocs"] = data["total"] - data["generator"]
    return data


def make_project(tmp: Path, clusters: int) -> Path:
    project = tmp / f"province-{clusters}"
    project.mkdir()
    shutil.copy(ROOT / "mkdocs.yml", project / "mkdocs.yml")
    for name in ("content", "theme_overrides", "schema"):
        shutil.copytree(ROOT / name, project / name)
    write_casebook(project / "cases", clusters)
    return project


def edit_one_case(project: Path, n: int) -> None:
    path = project / "cases" / "clusters" / "fictional-0000.yaml"
    text = path.read_text(encoding="utf-8")
    value = re.search(r"value: ([\d.]+)", text)
    assert value
    path.write_text(text.replace(value.group(0), f"value: {float(value.group(1)) + n + 1}", 1), encoding="utf-8")


def browser_metrics(site: Path, runs: int) -> dict:
    from playwright.sync_api import sync_playwright

    from browser_support import CHROMIUM, CHROMIUM_ARGS, serve_directory

    latencies, page_bytes, search_bytes = [], 0, []
    with serve_directory(site) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(runs):
            ctx = browser.new_context()
            page = ctx.new_page()
            fetched: list[int] = []

            def count(response, fetched=fetched):
                if "/search/" in response.url and response.ok:
                    with contextlib.suppress(Exception):
                        fetched.append(len(gzip.compress(response.body())))

            page.on("response", count)
            page.goto(base)
            page.wait_for_load_state("networkidle")
            fetched.clear()  # the manifest every page loads is not part of the query
            start = time.perf_counter()
            page.click("[data-md-component=search-query]")
            page.keyboard.type("竹笋", delay=0)
            page.wait_for_selector(".md-search-result__item", timeout=60_000)
            latencies.append(time.perf_counter() - start)
            page.wait_for_timeout(300)
            search_bytes.append(sum(fetched))
            ctx.close()
        ctx = browser.new_context()
        page = ctx.new_page()
        bodies: list[bytes] = []

        def keep(response):
            if "/search/" not in response.url and response.ok:
                with contextlib.suppress(Exception):
                    bodies.append(response.body())

        page.on("response", keep)
        page.goto(base + "cases/fictional-0001/")
        page.wait_for_load_state("networkidle")
        page_bytes = sum(len(gzip.compress(b)) for b in bodies)
        ctx.close()
        browser.close()
    return {"first_search": statistics.median(latencies), "page_gzip": page_bytes,
            "search_kb": statistics.median(search_bytes) / 1024}


def measure(clusters: int, runs: int, tmp: Path) -> dict:
    project = make_project(tmp, clusters)
    cold = []
    for _ in range(runs):
        shutil.rmtree(project / "site", ignore_errors=True)
        shutil.rmtree(project / ".cache", ignore_errors=True)
        cold.append(build_once(project))
    noop = [build_once(project) for _ in range(runs)]
    edits = []
    for n in range(runs):
        edit_one_case(project, n)
        edits.append(build_once(project))
    index_files = [f for f in (project / "site" / "search").rglob("*") if f.is_file()]
    index_bytes = sum(f.stat().st_size for f in index_files)
    index_gz = sum(len(gzip.compress(f.read_bytes())) for f in index_files)
    med = lambda rows, key: statistics.median(r[key] for r in rows)  # noqa: E731
    result = {
        "clusters": clusters, "pages": cold[0]["pages"],
        "full": med(cold, "total"), "generator": med(cold, "generator"), "mkdocs": med(cold, "mkdocs"),
        "charts_full": cold[0]["rendered"], "edit": med(edits, "total"), "charts_edit": max(e["rendered"] for e in edits),
        "noop": med(noop, "total"), "charts_noop": max(r["rendered"] for r in noop),
        "peak_mb": max(r["maxrss_kb"] for r in cold + noop + edits) / 1024,
        "index_mb": index_bytes / 2**20, "index_gz_mb": index_gz / 2**20, "index_files": len(index_files),
    }
    result.update(browser_metrics(project / "site", max(runs, 3)))
    shutil.rmtree(project, ignore_errors=True)
    return result


def machine() -> str:
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            kb = next(int(line.split()[1]) for line in fh if line.startswith("MemTotal"))
        mem = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, StopIteration):
        pass
    return (f"{platform.node()} · {platform.system()} {platform.machine()} · {os.cpu_count()} cores{mem} · "
            f"Python {platform.python_version()}")


BUDGET = {"full": 120, "edit": 10, "first_search": 1.0, "page_gzip": 300 * 1024, "peak_mb": 2048}


def table(results: list[dict]) -> str:
    head = ("| clusters | pages | full build (s) | generator (s) | MkDocs (s) | charts rendered | rebuild after "
            "1 edit (s) | charts re-rendered | no-op rebuild (s) | no-op charts | peak memory (MB) | search index "
            "(MB, gzip; files) | first search (s) | first search loads (KB gzip) | case page gzip (KB) |")
    lines = [head, "|" + "---:|" * 15]
    for r in results:
        lines.append(f"| {r['clusters']} | {r['pages']} | {r['full']:.1f} | {r['generator']:.1f} | {r['mkdocs']:.1f} "
                     f"| {r['charts_full']} | {r['edit']:.1f} | {r['charts_edit']} | {r['noop']:.1f} "
                     f"| {r['charts_noop']} | {r['peak_mb']:.0f} | {r['index_mb']:.1f} ({r['index_gz_mb']:.1f}; "
                     f"{r['index_files']}) | {r['first_search']:.2f} | {r['search_kb']:.0f} | {r['page_gzip'] / 1024:.0f} |")
    return "\n".join(lines)


def verdicts(r: dict) -> str:
    """The budget, figure by figure, at the largest size measured."""
    rows = [
        ("full build ≤ 120 s (cold: no site, no cache)", f"{r['full']:.1f} s", r["full"] <= BUDGET["full"]),
        ("rebuild after one case edit ≤ 10 s", f"{r['edit']:.1f} s", r["edit"] <= BUDGET["edit"]),
        ("no-op rebuild renders no chart", f"{r['charts_noop']} charts", r["charts_noop"] == 0),
        ("first search result ≤ 1 s", f"{r['first_search']:.2f} s", r["first_search"] <= BUDGET["first_search"]),
        ("case page ≤ 300 KB gzip (search index excluded)", f"{r['page_gzip'] / 1024:.0f} KB",
         r["page_gzip"] <= BUDGET["page_gzip"]),
        ("peak memory ≤ 2 GB (build and its helper process)", f"{r['peak_mb']:.0f} MB", r["peak_mb"] <= BUDGET["peak_mb"]),
    ]
    lines = [f"## Against the budget at {r['clusters']:,} clusters", "", "| budget | measured | verdict |", "|---|---|---|"]
    lines += [f"| {name} | {value} | {'met' if ok else '**not met**'} |" for name, value, ok in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--large-runs", type=int, default=3,
                        help="runs for casebooks of 1,000 clusters or more")
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="casebook-bench-") as tmp:
        for n in [int(s) for s in args.sizes.split(",")]:
            print(f"… {n} clusters", file=sys.stderr, flush=True)
            results.append(measure(n, args.runs if n < 1000 else args.large_runs, Path(tmp)))
            print(table(results), flush=True)
    text = (f"# Benchmark results\n\nMachine: {machine()}  \nDate: {time.strftime('%Y-%m-%d')}  \n"
            f"Command: `.venv/bin/python benchmarks/province.py --sizes {args.sizes} --runs {args.runs} "
            f"--large-runs {args.large_runs}`  \n"
            f"Medians of {args.runs} runs ({args.large_runs} at 1,000 clusters or more; first search: of at least 3). "
            "Data: synthetic, fictional.\n\n"
            + table(results) + "\n\n" + verdicts(results[-1]) + "\n\n"
            "How the design got here, with before/after figures: [HISTORY.md](HISTORY.md).\n")
    Path(args.out).write_text(text, encoding="utf-8")
    print(f"written {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
