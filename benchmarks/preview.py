"""Live preview benchmark (issue 16): edit → page in `casebook serve`, on a synthetic (FICTIONAL)
casebook. The preview is started as an editor starts it; each run saves one case file and polls
the served page over HTTP until it shows the edit. Medians, never assertions.

Run:  .venv/bin/python benchmarks/preview.py [--clusters 100,1000] [--runs 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from province import make_project  # noqa: E402


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return resp.read().decode("utf-8")
    except OSError:
        return ""


def _until(url: str, text: str, timeout: float) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if text in _fetch(url):
            return time.perf_counter() - start
        time.sleep(0.02)
    raise SystemExit(f"{url} never showed {text!r} within {timeout} s")


def _idle(url: str) -> float:
    """Wait until the preview has written the rest of the site after the edited page (the other
    pages, search, downloads, write-ups): each edit is then measured from a quiet preview, as an
    editor's first save is. How long that took."""
    import json

    start = time.perf_counter()
    while json.loads(_fetch(url) or '{"busy": true}')["busy"]:
        time.sleep(0.1)
    took = time.perf_counter() - start
    time.sleep(0.3)
    return took


def measure(project: Path, runs: int) -> dict:
    port = _port()
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    exe = Path(sys.executable).with_name("casebook")
    start = time.perf_counter()
    # The preview's own lines (ready, updated, a full build) beside the project: what to read when
    # an edit takes long.
    log = (project.parent / f"{project.name}-preview.log").open("w", encoding="utf-8")
    proc = subprocess.Popen([str(exe), "serve", "--dev-addr", f"127.0.0.1:{port}"], cwd=project, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/cases/fictional-0000/"
    try:
        _until(url, "举措1", 3600)
        ready = time.perf_counter() - start
        path = project / "cases" / "clusters" / "fictional-0000.yaml"
        times, complete = [], []
        for n in range(runs):
            text = path.read_text(encoding="utf-8")
            # Whatever an earlier run left (a kept project): each edit's marker is new to the file,
            # or the page would never show it and the run would wait for nothing.
            marker = f"举措1（第{n + 1}次修改，{time.time_ns()}）"
            edited = re.sub(r"title: 举措1(（第[^）]*）)?\n", f"title: {marker}\n", text, count=1)
            if edited == text:
                raise SystemExit(f"{path} has no “title: 举措1” to edit")
            path.write_text(edited, encoding="utf-8")
            times.append(_until(url, marker, 1800))
            complete.append(times[-1] + _idle(f"http://127.0.0.1:{port}/.casebook-preview/events?since=-1"))
        return {"ready": ready, "edits": times, "median": statistics.median(times),
                "complete": statistics.median(complete)}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=120)  # it removes its folders; at 10,000 clusters that takes a while
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", default="100,1000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", help="a directory for the projects (default: a temporary one)")
    args = parser.parse_args()
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="casebook-preview-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    print("| clusters | preview ready (s) | edit → page, median (s) | each (s) | edit → whole site idle, median (s) |\n"
          "|---:|---:|---:|---|---:|")
    for size in (int(s) for s in args.clusters.split(",")):
        project = tmp / f"province-{size}"
        if not project.exists():
            project = make_project(tmp, size)
        r = measure(project, args.runs)
        each = ", ".join(f"{t:.2f}" for t in r["edits"])
        print(f"| {size} | {r['ready']:.1f} | {r['median']:.2f} | {each} | {r['complete']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
