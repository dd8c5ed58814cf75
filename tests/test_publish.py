"""Publishing never risks the editor's files, is atomic under kill -9 at every step, one build at a
time, and turns faults (read-only, full disk) into Chinese errors that leave the old site as it was."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from helpers import wait_until
from sitebuild import build_project, make_project, tree_digest

FICTIONAL = Path(__file__).parent / "fixtures" / "fictional"
PROTECTED = ("cases", "content", "theme_overrides", ".git", ".cache", ".cache/casebook", "mkdocs.yml")


def casebook(project: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "casebook", *args], cwd=project, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})


def snapshot_all(root: Path) -> dict[str, str]:
    """Every file under ``root`` (the editor's files included) by content."""
    return {k: v for k, v in tree_digest(root).items() if not k.startswith((".cache/", "site/", ".site"))}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = make_project(tmp_path, FICTIONAL)
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    subprocess.run(["git", "-C", str(project), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(project), "-c", "user.name=虚构", "-c", "user.email=x@example.invalid",
                    "commit", "-qm", "虚构"], check=True)
    return project


# --------------------------------------------------------------------------- the site directory


@pytest.mark.parametrize("site_dir", [".", "..", "/", *PROTECTED, "cases/clusters", "content/guide",
                                      ".git/objects", "theme_overrides/x", "../project"])
def test_a_site_dir_that_is_holds_or_lies_inside_the_editors_files_is_refused(project, site_dir):
    before = snapshot_all(project)
    git_before = tree_digest(project / ".git")
    proc = casebook(project, "build", "--site-dir", site_dir)
    assert proc.returncode == 2, proc.stderr
    assert "用法错误" in proc.stderr and "提示" in proc.stderr and "Traceback" not in proc.stderr
    assert snapshot_all(project) == before
    assert tree_digest(project / ".git") == git_before


def test_a_symlink_into_the_cases_is_refused_too(project, tmp_path):
    (tmp_path / "sneaky").symlink_to(project / "cases")
    before = snapshot_all(project)
    proc = casebook(project, "build", "--site-dir", str(tmp_path / "sneaky"))
    assert proc.returncode == 2 and "案例目录" in proc.stderr
    assert snapshot_all(project) == before


def test_an_existing_file_or_a_foreign_directory_is_never_replaced(project, tmp_path):
    (tmp_path / "notes.txt").write_text("编辑的笔记（虚构）", encoding="utf-8")
    proc = casebook(project, "build", "--site-dir", str(tmp_path / "notes.txt"))
    assert proc.returncode == 2 and "文件" in proc.stderr
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "编辑的笔记（虚构）"
    foreign = tmp_path / "documents"
    foreign.mkdir()
    (foreign / "report.docx").write_bytes(b"not ours")
    proc = casebook(project, "build", "--site-dir", str(foreign))
    assert proc.returncode == 2 and "不是本工具生成的网站" in proc.stderr
    assert (foreign / "report.docx").read_bytes() == b"not ours"
    # An empty directory, or one this tool published, is fine.
    (tmp_path / "empty").mkdir()
    assert casebook(project, "build", "--site-dir", str(tmp_path / "empty")).returncode == 0
    assert casebook(project, "build", "--site-dir", str(tmp_path / "empty")).returncode == 0


def test_plain_mkdocs_build_refuses_the_cases_directory_as_well(project):
    before = snapshot_all(project)
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-q", "-d", "cases"], cwd=project,
                          capture_output=True, text=True, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert proc.returncode != 0
    assert "案例目录" in proc.stderr
    assert snapshot_all(project) == before


def test_folders_named_like_leftovers_are_the_editors_and_stay(tmp_path):
    """Only what a build itself made (its lock's journal) is ever removed, whatever other names look like."""
    project = make_project(tmp_path / "x", FICTIONAL)
    notes = project / ".site.building-notes"
    notes.mkdir()
    (notes / "notes.txt").write_text("重要（虚构）", encoding="utf-8")
    (project / ".site.old-mine").mkdir()
    (project / ".site.downloads-keep").write_text("x", encoding="utf-8")
    shutil.copytree(project / "cases", project / ".site.old-mycases")
    for args in ([], ["--cases", ".site.old-mycases"]):
        assert casebook(project, "build", *args).returncode == 0
    assert (notes / "notes.txt").read_text(encoding="utf-8") == "重要（虚构）"
    assert (project / ".site.old-mine").is_dir() and (project / ".site.downloads-keep").is_file()
    assert (project / ".site.old-mycases" / "indicators.yaml").is_file()


def test_a_project_named_like_a_leftover_of_its_sibling_site_stays(tmp_path):
    project = make_project(tmp_path, FICTIONAL).rename(tmp_path / ".pub.old-project")
    before = snapshot_all(project)
    proc = casebook(project, "build", "--site-dir", "../pub")
    assert proc.returncode == 0, proc.stderr
    assert snapshot_all(project) == before
    assert (tmp_path / "pub" / "index.html").is_file()


# --------------------------------------------------------------------------- kill -9 at every step

KILLER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from casebook import publish
    from casebook.mkdocs_plugin import build

    step, config, site, exchange = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4] == "1"
    def at(name):
        if name == step:
            os.kill(os.getpid(), signal.SIGKILL)
    publish._step = at
    if not exchange:
        publish._exchange = lambda a, b: False  # a system without the atomic exchange
    build(config, site)
    sys.exit(3)  # the step was never reached
""")

STEPS = [("locked", True), ("built", True), ("publish", True), ("exchanged", True), ("published", True),
         ("saved", True), ("built", False), ("moved-aside", False), ("published", False)]


@pytest.fixture(scope="module")
def two_sites(tmp_path_factory):
    """A fictional project, and reference digests of its site before and after one edit."""
    tmp = tmp_path_factory.mktemp("kill")
    project = make_project(tmp, FICTIONAL)
    old = tree_digest(build_project(project, tmp / "ref-old"))
    cluster = project / "cases" / "clusters" / "fictional-a.yaml"
    original = cluster.read_text(encoding="utf-8")
    edited = original.replace("虚构的测试组团", "改过的虚构测试组团")
    cluster.write_text(edited, encoding="utf-8")
    new = tree_digest(build_project(project, tmp / "ref-new"))
    assert old != new
    return project, cluster, original, edited, old, new


@pytest.mark.parametrize(("step", "exchange"), STEPS, ids=[f"{s}-{'exchange' if e else 'renames'}" for s, e in STEPS])
def test_kill_at_each_step_of_publishing(two_sites, tmp_path, step, exchange):
    project, cluster, original, edited, old, new = two_sites
    site = tmp_path / "site"
    cluster.write_text(original, encoding="utf-8")
    build_project(project, site)
    assert tree_digest(site) == old
    cluster.write_text(edited, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", KILLER, step, str(project / "mkdocs.yml"), str(site),
                           "1" if exchange else "0"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, f"the build was not killed at {step}: {proc.returncode} {proc.stderr[-2000:]}"
    if step != "moved-aside":
        # The published path holds a whole site at every instant: the old one or the new one.
        assert tree_digest(site) in (old, new), f"after a kill at {step} the published site is partial"
    else:
        # Only without the atomic exchange, between its two renames: the next build puts it back.
        assert not site.exists()
    # The next build cleans up after the killed one and publishes the new site.
    build_project(project, site)
    assert tree_digest(site) == new
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".site") and p.name != ".site.lock"]
    assert leftovers == []


# The readiness signal of a child held at a point: a file that appears whole (written, then renamed).
SIGNAL = textwrap.dedent("""
    import os
    def signal(path, text):
        with open(path + ".part", "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(path + ".part", path)
""")

MIDBUILD = SIGNAL + textwrap.dedent("""
    import sys
    from pathlib import Path
    from mkdocs import utils
    from casebook.cli import main

    config, site, ready = sys.argv[1], sys.argv[2], sys.argv[3]
    write_file = utils.write_file
    def held(content, path):
        write_file(content, path)
        if Path(path).name == "index.html" and "cases" in Path(path).parts:
            # A case page of the new site is on disk in the staging folder, the rest is not: say so,
            # then stay here, mid-build, until the test kills this process.
            signal(ready, str(path))
            sys.stdin.read()
    utils.write_file = held
    sys.exit(main(["build", "--config", config, "--site-dir", site]))
""")


def test_kill_during_the_mkdocs_build_keeps_the_old_site(two_sites, tmp_path):
    project, cluster, original, edited, old, _ = two_sites
    site = tmp_path / "site"
    cluster.write_text(original, encoding="utf-8")
    build_project(project, site)
    cluster.write_text(edited, encoding="utf-8")
    ready = tmp_path / "ready"
    proc = subprocess.Popen([sys.executable, "-c", MIDBUILD, str(project / "mkdocs.yml"), str(site), str(ready)],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: ready.exists() or proc.poll() is not None, 120, "the build to write its first case page")
        assert proc.poll() is None, f"the build ended ({proc.returncode}) before it wrote a case page"
        written = Path(ready.read_text(encoding="utf-8"))
        assert written.is_file() and written.relative_to(tmp_path).parts[0].startswith(".site.building-"), written
        assert tree_digest(site) == old
    finally:
        proc.kill()
        proc.communicate()
    assert proc.returncode == -9
    assert tree_digest(site) == old
    build_project(project, site)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site.") and p.name != ".site.lock"] == []


# --------------------------------------------------------------------------- one build at a time

HOLD = SIGNAL + textwrap.dedent("""
    import sys
    from pathlib import Path
    from casebook import publish
    from casebook.mkdocs_plugin import build

    config, site, ready = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    def at(name):
        if name == "built" and ready:
            # Built, lock held, not yet published: say so, and hold here until the test lets go.
            signal(ready, name)
            sys.stdin.readline()
    publish._step = at
    build(config, site, strict=True)  # strict: a build that builds (nothing changed would be a no-op)
""")


def test_two_builds_of_one_site_never_publish_at_once(two_sites, tmp_path):
    project, cluster, original, _, old, _ = two_sites
    cluster.write_text(original, encoding="utf-8")
    site = tmp_path / "site"
    build_project(project, site)
    ready, err1, err2 = tmp_path / "ready", tmp_path / "first.err", tmp_path / "second.err"

    def start(ready_file: str, err: Path) -> subprocess.Popen[str]:
        with err.open("w", encoding="utf-8") as fh:  # a file, not a pipe: nobody reads it while we wait
            return subprocess.Popen([sys.executable, "-c", HOLD, str(project / "mkdocs.yml"), str(site), ready_file],
                                    stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=fh, text=True)

    first = start(str(ready), err1)
    second = None
    try:
        wait_until(lambda: ready.exists() or first.poll() is not None, 120,
                   "the first build to hold the lock with its site built")
        assert first.poll() is None, f"the first build ended ({first.returncode}): " + err1.read_text(encoding="utf-8")
        second = start("", err2)
        # The first holds the lock: the second must say it waits, and go on waiting (not fail, not publish).
        wait_until(lambda: "等待" in err2.read_text(encoding="utf-8") or second.poll() is not None, 120,
                   "the second build to say it waits for the first")
        assert second.poll() is None, (f"the second build ended ({second.returncode}) instead of waiting: "
                                       + err2.read_text(encoding="utf-8"))
        assert tree_digest(site) == old
        assert first.stdin is not None
        first.stdin.write("\n")
        first.stdin.close()
        assert first.wait(timeout=300) == 0, err1.read_text(encoding="utf-8")
        assert second.wait(timeout=300) == 0, err2.read_text(encoding="utf-8")
    finally:
        for proc in (first, second):
            if proc is not None:
                if proc.poll() is None:
                    proc.kill()
                proc.communicate()
    assert "等待" in err2.read_text(encoding="utf-8"), "the second build says it waits for the first"
    assert tree_digest(site) == old


# --------------------------------------------------------------------------- faults


@contextlib.contextmanager
def tmpfs(path: Path, size: str, *options: str):
    path.mkdir(parents=True, exist_ok=True)
    opts = ",".join([f"size={size}", *options])
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)], capture_output=True, text=True)
    if proc.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs to test faults: {proc.stderr}")
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_read_only_site_directory_is_a_chinese_error(project, tmp_path):
    with tmpfs(tmp_path / "ro", "1m", "ro") as ro:
        proc = casebook(project, "build", "--site-dir", str(ro / "site"))
    assert proc.returncode == 1
    assert "只读" in proc.stderr and "Traceback" not in proc.stderr and "原有网站保持不变" in proc.stderr


def test_a_full_disk_is_a_chinese_error_and_the_old_site_stays(project, tmp_path):
    with tmpfs(tmp_path / "small", "64m") as disk:
        site = disk / "site"
        assert casebook(project, "build", "--site-dir", str(site)).returncode == 0
        before = tree_digest(site)
        free = shutil.disk_usage(disk).free
        with open(disk / "filler", "wb") as fh:
            fh.truncate(0)
            with contextlib.suppress(OSError):
                fh.write(b"\0" * (free - 200_000))
        # --strict: a full build, which writes every file (a build with nothing changed writes none)
        proc = casebook(project, "build", "--strict", "--site-dir", str(site))
        assert proc.returncode == 1, proc.stdout
        assert "磁盘空间不足" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
        assert str(site) in proc.stderr, "the full disk is named by the folder written to"
        assert tree_digest(site) == before
        (disk / "filler").unlink()
        assert [p.name for p in disk.iterdir() if p.name.startswith(".site.") and p.name != ".site.lock"] == []


def test_os_errors_are_described_in_chinese():
    from casebook.publish import describe_os_error

    for code, words in [(errno.ENOSPC, "磁盘空间不足"), (errno.EROFS, "只读"), (errno.EACCES, "没有权限"),
                        (errno.EPERM, "没有权限"), (errno.ENOTDIR, "不是目录"), (errno.EEXIST, "不是目录"),
                        (errno.ENOENT, "找不到"), (errno.EIO, "出错")]:
        text = describe_os_error(OSError(code, os.strerror(code), "/虚构/site"))
        assert words in text and "/虚构/site" in text and "提示" in text


@pytest.mark.parametrize("config", ["site_name: [x\n", "site_name: x\ntheme:\n  name: nosuchtheme\n",
                                    "site_name: x\nplugins:\n  - nosuchplugin\n"])
def test_a_broken_site_configuration_is_a_chinese_error(project, config):
    (project / "bad.yml").write_text(config, encoding="utf-8")
    proc = casebook(project, "build", "--config", "bad.yml")
    assert proc.returncode == 1
    assert "站点配置文件有错误" in proc.stderr and "提示" in proc.stderr and "Traceback" not in proc.stderr


def test_a_fault_outside_the_site_folder_is_not_blamed_on_it(tmp_path):
    from casebook.publish import describe_os_error

    site = tmp_path / "out" / "site"
    inside = describe_os_error(OSError(errno.ENOENT, "No such file", str(tmp_path / "out" / "x")), site)
    outside = describe_os_error(OSError(errno.ENOENT, "No such file", str(tmp_path / "content" / "x.md")), site)
    assert "--site-dir" in inside and "--site-dir" not in outside and "content" in outside


def test_a_planted_journal_deletes_nothing(project):
    """A pull request can add a lock file that names the editor's files: only names of the exact form
    this tool gives, and only directories, are ever taken from it."""
    (project / "README.md").write_text("说明（虚构）", encoding="utf-8")
    (project / "notes").mkdir()
    (project / ".site.building-notes").mkdir()
    (project / ".site.building-0123456789ab").write_text("不是目录（虚构）", encoding="utf-8")
    planted = ["README.md", "notes", "cases", ".site.building-notes", ".site.building-0123456789ab", "..", "/etc"]
    (project / ".site.lock").write_text(json.dumps(planted), encoding="utf-8")
    before = snapshot_all(project)
    assert casebook(project, "build").returncode == 0
    after = snapshot_all(project)
    assert {k: v for k, v in after.items() if k != ".site.lock"} == {k: v for k, v in before.items() if k != ".site.lock"}
    assert (project / "notes").is_dir() and (project / ".site.building-notes").is_dir()
    assert (project / ".site.building-0123456789ab").read_text(encoding="utf-8") == "不是目录（虚构）"


def test_a_file_where_the_lock_would_go_is_never_rewritten(project, tmp_path):
    (tmp_path / ".out.lock").write_text("编辑的笔记（虚构）", encoding="utf-8")
    proc = casebook(project, "build", "--site-dir", str(tmp_path / "out"))
    assert proc.returncode == 2 and "锁文件" in proc.stderr
    assert (tmp_path / ".out.lock").read_text(encoding="utf-8") == "编辑的笔记（虚构）"


def test_hidden_entries_of_the_published_site_are_kept(project, tmp_path):
    """A gh-pages checkout (.git) or a .nojekyll inside the site folder survives rebuilds, as with MkDocs."""
    site = tmp_path / "out"
    assert casebook(project, "build", "--site-dir", str(site)).returncode == 0
    (site / ".git" / "objects").mkdir(parents=True)
    (site / ".git" / "HEAD").write_text("ref: refs/heads/gh-pages\n", encoding="utf-8")
    (site / ".nojekyll").write_text("", encoding="utf-8")
    cluster = project / "cases" / "clusters" / "fictional-a.yaml"
    cluster.write_text(cluster.read_text(encoding="utf-8").replace("虚构的测试组团", "改过的虚构测试组团"), encoding="utf-8")
    for _ in range(2):  # a full build, then an incremental one
        assert casebook(project, "build", "--site-dir", str(site)).returncode == 0
        assert (site / ".git" / "HEAD").read_text(encoding="utf-8") == "ref: refs/heads/gh-pages\n"
        assert (site / ".git" / "objects").is_dir() and (site / ".nojekyll").is_file()


def test_an_inherited_file_that_is_not_settings_is_a_chinese_error(project):
    (project / "list.yml").write_text("- 一\n- 二\n", encoding="utf-8")
    (project / "inh.yml").write_text("INHERIT: list.yml\nsite_name: x\n", encoding="utf-8")
    proc = casebook(project, "build", "--config", "inh.yml")
    assert proc.returncode == 1 and "站点配置文件有错误" in proc.stderr and "Traceback" not in proc.stderr


def test_a_gh_pages_checkout_is_a_fine_site_dir_and_only_its_history_is_carried(project, tmp_path):
    gh = tmp_path / "gh"
    subprocess.run(["git", "init", "-q", str(gh)], check=True)
    (gh / ".nojekyll").write_text("", encoding="utf-8")
    assert casebook(project, "build", "--site-dir", str(gh)).returncode == 0
    assert (gh / ".git" / "HEAD").is_file() and (gh / ".nojekyll").is_file() and (gh / "index.html").is_file()
    (gh / ".evil").mkdir()  # planted: a hidden folder is not carried, so it is never published unchecked
    (gh / ".evil" / "x.html").write_text("<script>alert(1)</script>", encoding="utf-8")
    assert casebook(project, "build", "--site-dir", str(gh)).returncode == 0
    assert not (gh / ".evil").exists() and (gh / ".git" / "HEAD").is_file()


def test_a_symlink_loop_as_site_dir_is_a_chinese_error(project):
    (project / "loopA").symlink_to("loopB")
    (project / "loopB").symlink_to("loopA")
    proc = casebook(project, "build", "--site-dir", "loopA")
    assert proc.returncode == 2 and "循环的符号链接" in proc.stderr and "Traceback" not in proc.stderr


def test_a_build_cache_that_arrived_in_a_commit_is_never_used(project):
    """Cached pages and workbooks are published as they are: a pull request that force-adds the cache is refused."""
    assert casebook(project, "build").returncode == 0
    subprocess.run(["git", "-C", str(project), "add", "-f", ".cache/casebook"], check=True)
    proc = casebook(project, "build")
    assert proc.returncode == 1 and "提交进版本库" in proc.stderr and "git rm -r --cached" in proc.stderr
    subprocess.run(["git", "-C", str(project), "rm", "-r", "-q", "--cached", ".cache"], check=True)
    assert casebook(project, "build").returncode == 0
