"""CLI rebuild benchmark (issue 16): no-op rebuild, one-edit rebuild and `casebook check` on a
synthetic (FICTIONAL) casebook, medians of several runs, and a cProfile of one edit rebuild.

The project is built once (cold); every figure after that is a warm rebuild of the same site, as
an editor's would be. Not part of the test suite: figures are medians, never assertions.

Run:  .venv/bin/python benchmarks/rebuild.py [--clusters 1000] [--runs 3] [--profile 30] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from province import build_once, edit_one_case, make_project  # noqa: E402

PROFILED = r"""
import cProfile, io, pstats, sys
from pathlib import Path
from casebook.mkdocs_plugin import build
prof = cProfile.Profile()
prof.enable()
build(Path(sys.argv[1]), Path(sys.argv[2]))
prof.disable()
out = io.StringIO()
pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(int(sys.argv[3]))
print(out.getvalue())
"""


def check_once(project: Path) -> dict:
    exe = Path(sys.executable).with_name("casebook")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([str(exe), "check", "--cases", "cases"], cwd=project, capture_output=True, text=True,
                          check=False)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"check failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"total": took, "cpu": cpu}


def profile_edit(project: Path, n: int, top: int) -> str:
    edit_one_case(project, n)
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run([sys.executable, "-c", PROFILED, str(project / "mkdocs.yml"), str(project / "site"),
                           str(top)], capture_output=True, text=True, env=env, cwd=project, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"profiled build failed:\n{proc.stderr[-3000:]}")
    return proc.stdout


def _med(runs: list[dict]) -> str:
    wall, cpu = (statistics.median(r[k] for r in runs) for k in ("total", "cpu"))
    each = ", ".join(f"{r['total']:.2f}" for r in runs)
    return f"{wall:.2f} / {cpu:.2f} (wall {each})"


def compare(before_code: Path, before: Path, after: Path, runs: int, top: int) -> None:
    """Both code trees, each on its own project (built before by that code: see --keep), measurement by measurement in turn: on a
    shared machine both then see the same load. ``before_code``: a copy of the package's parent
    folder as it was (put first on PYTHONPATH for its builds)."""
    plain = os.environ.get("PYTHONPATH")

    def use(code: Path | None) -> None:
        if code is None and plain is None:
            os.environ.pop("PYTHONPATH", None)
        elif code is None:
            os.environ["PYTHONPATH"] = plain or ""
        else:
            os.environ["PYTHONPATH"] = str(code)

    sides = {"before": (before_code, before), "after": (None, after)}
    rows: dict[str, dict[str, list[dict]]] = {name: {"no-op": [], "edit": [], "check": []} for name in sides}
    # The first no-op of each side makes its site the one its code builds, if it was not already.
    for n in range(runs):
        for what in ("no-op", "edit", "check"):
            for name, (code, project) in sides.items():
                use(code)
                if what == "edit":
                    edit_one_case(project, 100 + n)
                rows[name][what].append(check_once(project) if what == "check" else build_once(project))
                print(name, what, f"{rows[name][what][-1]['total']:.2f}", file=sys.stderr, flush=True)
    for name in sides:
        print(f"{name}: medians of {runs} (wall s / CPU s): " + "; ".join(
            f"{what} {_med(rows[name][what])}" for what in ("no-op", "edit", "check")), flush=True)
    if top:
        for name, (code, project) in sides.items():
            use(code)
            print(f"--- profile of one edit rebuild, {name}\n" + profile_edit(project, 200, top), flush=True)
    use(None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", type=int, default=30, help="rows of the profile (0: no profile)")
    parser.add_argument("--keep", help="a directory for the project, kept afterwards (default: a temporary one)")
    parser.add_argument("--before", nargs=2, metavar=("CODE", "PROJECT"),
                        help="compare with an older copy of generator/ (CODE) on its own built project, in turn")
    args = parser.parse_args()
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="casebook-rebuild-"))
    tmp.mkdir(parents=True, exist_ok=True)
    project = tmp / f"province-{args.clusters}"
    if not project.exists():
        project = make_project(tmp, args.clusters)
    if args.before:
        compare(Path(args.before[0]), Path(args.before[1]), project, args.runs, args.profile)
        return
    cold = build_once(project)
    print(f"cold build: {cold['total']:.2f} s", file=sys.stderr, flush=True)
    noop = [build_once(project) for _ in range(args.runs)]
    edits = []
    for n in range(args.runs):
        edit_one_case(project, n)
        edits.append(build_once(project))
    checks = [check_once(project) for _ in range(args.runs)]
    print(f"clusters {args.clusters}, medians of {args.runs} (wall s / CPU s): "
          f"no-op {_med(noop)}; edit {_med(edits)}; check {_med(checks)}", flush=True)
    if args.profile:
        print(profile_edit(project, args.runs, args.profile), flush=True)
    print(f"project: {project}", file=sys.stderr)


if __name__ == "__main__":
    main()
