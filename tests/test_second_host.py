"""A second host: ProperDocs (the maintained fork of MkDocs 1.x) builds the same casebook with Material
and the casebook plugin unchanged.

ProperDocs installs its own `properdocs` module and command beside MkDocs (the test extra brings it);
it reads plugins from the `mkdocs.plugins` entry points and, inside its own process, answers every
``mkdocs.*`` import. Each build here runs its real `properdocs build` command in a subprocess, so
nothing of it leaks into this process's MkDocs. Outside CI a missing ProperDocs skips these tests;
in CI (CI=true) it fails them, so a missing host can never pass as green.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from sitebuild import make_project, tree_digest

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "cases"
FICTIONAL = Path(__file__).parent / "fixtures" / "fictional"


def properdocs_command() -> Path:
    command = Path(sys.executable).parent / "properdocs"
    if not command.is_file():
        message = f"ProperDocs is not installed next to {sys.executable}: pip install -e '.[test]'"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return command


def properdocs(project: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # `-f mkdocs.yml` explicitly: without it ProperDocs looks for properdocs.yml first and logs a
    # notice about the legacy name.
    return subprocess.run([str(properdocs_command()), "build", "-q", "-f", "mkdocs.yml", *args], cwd=project,
                          capture_output=True, text=True, timeout=600, env={**os.environ, **(env or {})})


def generator_tags() -> tuple[bytes, bytes]:
    """The generator meta tag each host writes into every page (Material's base.html, which gets
    the host's version in ``mkdocs_version``): the one part of the site that names its host."""
    material = metadata.version("mkdocs-material")
    mkdocs = f'<meta name="generator" content="mkdocs-{metadata.version("mkdocs")}, mkdocs-material-{material}">'
    proper = (f'<meta name="generator" content="mkdocs-ProperDocs {metadata.version("properdocs")}, '
              f'mkdocs-material-{material}">')
    return mkdocs.encode(), proper.encode()


def edit(path: Path, *changes: tuple[str, str]) -> None:
    text = path.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text, f"fixture lacks {old!r}"
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")


def test_properdocs_builds_the_same_site_as_mkdocs(tmp_path, real_site):
    """Every file of `properdocs build` is byte-identical to the MkDocs build (`casebook build`),
    once the generator meta tag, and nothing else, is set aside."""
    # The sitemap's dates are the build's date (gzip's header too): ProperDocs is given the date
    # the MkDocs build had, so those files are compared byte for byte as well.
    with gzip.open(real_site / "sitemap.xml.gz") as sitemap:
        sitemap.read()
        built_on = sitemap.mtime
    assert built_on
    project = make_project(tmp_path, CASES)
    out = tmp_path / "by-properdocs"
    # --strict as in CI: ProperDocs must not warn about anything MkDocs does not.
    proc = properdocs(project, "--strict", "-d", str(out), env={"SOURCE_DATE_EPOCH": str(built_on)})
    assert proc.returncode == 0, proc.stderr
    ours, theirs = tree_digest(real_site), tree_digest(out)
    assert sorted(theirs) == sorted(ours)
    mkdocs_tag, proper_tag = generator_tags()
    named = []
    for rel, digest in ours.items():
        if theirs[rel] == digest:
            continue
        mine, other = (real_site / rel).read_bytes(), (out / rel).read_bytes()
        # Exactly one tag each, in the same place: the file is identical once the two are swapped.
        assert (mine.count(mkdocs_tag), other.count(proper_tag)) == (1, 1), rel
        assert mine.replace(mkdocs_tag, proper_tag) == other, rel
        named.append(rel)
    # Every page (and only a page) names its host, so this really was ProperDocs, not MkDocs again.
    pages = sorted(rel for rel in ours if rel.endswith(".html"))
    assert pages and sorted(named) == pages


# The host's own configuration check refuses a site_dir holding docs_dir (in English, before any
# plugin runs); the casebook plugin refuses the rest, in Chinese.
HOST_GUARDED = {".": "'docs_dir' should not be within the 'site_dir'",
                "content": "'docs_dir' should not be within the 'site_dir'"}
PLUGIN_GUARDED = ("cases", "cases/clusters", "theme_overrides", ".cache", ".cache/casebook", "mkdocs.yml",
                  "theme_overrides/casebook")


@pytest.mark.parametrize("site_dir", [*HOST_GUARDED, *PLUGIN_GUARDED])
def test_properdocs_refuses_the_editors_files_as_site_dir(tmp_path, site_dir):
    """`properdocs build -d DIR` applies the same publishing rules as `mkdocs build -d DIR`, and not
    one of the editor's files changes."""
    project = make_project(tmp_path, FICTIONAL)
    (project / ".cache" / "casebook").mkdir(parents=True)
    (project / "theme_overrides" / "casebook").mkdir(exist_ok=True)
    (project / "theme_overrides" / "casebook" / "note.txt").write_text("编辑的笔记（虚构）", encoding="utf-8")
    before = tree_digest(project)
    proc = properdocs(project, "-d", site_dir)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    expected = HOST_GUARDED.get(site_dir, "输出目录")
    assert expected in proc.stderr, proc.stderr
    if site_dir in PLUGIN_GUARDED:
        assert "提示：" in proc.stderr, proc.stderr
    assert tree_digest(project) == before


def test_properdocs_reports_every_case_error_as_casebook_check_does(tmp_path):
    """A broken casebook fails `properdocs build` with exactly the Chinese errors of `casebook check`,
    all at once, with case text (here a hostile key) made harmless for the terminal and the CI log."""
    project = make_project(tmp_path, FICTIONAL)
    # Errors of three kinds in two files: an unknown key that tries a terminal escape and a workflow
    # command, a figure its quote contradicts, and a lesson naming a cluster that does not exist.
    edit(project / "cases" / "clusters" / "fictional-a.yaml", ("\nname: 虚构甲组团\n",
         '\nname: 虚构甲组团\n"虚构\\e[2J\\n::error::伪造": 1\n'), ("value: 52\n", "value: 53\n"))
    edit(project / "cases" / "lessons" / "fictional-lesson.yaml", ("  - fictional-a\n", "  - fictional-missing\n"))
    check = subprocess.run([sys.executable, "-m", "casebook", "check", "--cases", "cases"], cwd=project,
                           capture_output=True, text=True, timeout=300)
    assert check.returncode == 1, check.stdout
    errors = [line for line in check.stdout.splitlines() if line.startswith("cases/")]
    assert len(errors) == 3 and {line.split(":", 1)[0] for line in errors} == {
        "cases/clusters/fictional-a.yaml", "cases/lessons/fictional-lesson.yaml"}, check.stdout
    out = tmp_path / "out"
    proc = properdocs(project, "-d", str(out))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr, proc.stderr
    logged = proc.stderr.replace("ERROR   -  ", "").splitlines()
    assert [line for line in logged if line.startswith("cases/")] == errors
    assert "\x1b" not in proc.stderr and not any(line.lstrip().startswith("::") for line in proc.stderr.splitlines())
    assert not (out / "index.html").exists()
