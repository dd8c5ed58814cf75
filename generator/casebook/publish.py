"""Publishing a built site: where it may go, one build at a time, and an atomic swap.

The editor's files are never at risk: a site directory that is, holds or lies inside what the
editor owns (the project, its case files, pages, theme overrides, git history or the build cache)
is refused, and so is an existing file or a directory that is not a site this tool published.

A build is staged in a sibling directory (same filesystem) and swapped in by one atomic exchange
(Linux ``renameat2(RENAME_EXCHANGE)``), so the published path always holds a complete site, the old
one or the new one. Builds of the same site directory hold a lock for the whole build; what a killed
build leaves behind (staging, downloads, the old site after a swap) is removed by the next build
under that lock. Where the exchange is not available, two renames are used, and a site moved aside
by a build killed between them is put back by the next build.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import CasebookError, UsageError, emit, shown

# What a published site always contains (the package's assets); how a site of ours is recognised.
SITE_MARK = Path("assets") / "casebook"
LOCK_WAIT_SECONDS = 600.0


class BuildFailed(CasebookError):
    """A build that did not produce a complete site; the previous site is untouched."""


class UnsafeSiteDir(UsageError):
    """The site directory given would put the editor's files at risk (a usage error: exit 2)."""


def _step(name: str) -> None:
    """A named point in publishing; tests replace this to kill the process exactly there."""


# --------------------------------------------------------------------------- where a site may go


def _inside(path: Path, parent: Path) -> bool:
    return path == parent or parent in path.parents


def check_site_dir(target: Path, protected: dict[str, Path], project: Path) -> Path:
    """The resolved site directory, or UnsafeSiteDir with a Chinese message and a fix.

    ``protected`` names what the editor owns (label → path); ``project`` is the project's root. The
    site may lie inside the project (``site/``) but not be it or hold it, and may neither hold nor lie
    inside anything protected.
    """
    site = Path(os.path.abspath(target))
    resolved = site.resolve()
    hint = "提示：用 --site-dir（casebook build）或 -d（mkdocs build）指定项目之外或项目内专用的输出目录，如 site/"
    project = project.resolve()
    if _inside(project, resolved):
        what = "项目目录本身" if resolved == project else "项目目录的上级目录"
        raise UnsafeSiteDir(f"输出目录“{target}”是{what}，构建会删除其中的全部文件。{hint}")
    for label, path in protected.items():
        path = path.resolve()
        if _inside(resolved, path) or _inside(path, resolved):
            relation = "就是" if resolved == path else ("位于" if _inside(resolved, path) else "包含")
            raise UnsafeSiteDir(f"输出目录“{target}”{relation}{label}（{path}），构建会覆盖或删除其中的文件。{hint}")
    if os.path.lexists(site) and not resolved.is_dir():
        raise UnsafeSiteDir(f"输出路径“{target}”是一个已有的文件，不是目录，不会覆盖它。{hint}")
    # Hidden entries alone (a gh-pages checkout's .git, .nojekyll) do not make a folder someone else's.
    if resolved.is_dir() and not is_site(resolved) and any(not p.name.startswith(".") for p in resolved.iterdir()):
        raise UnsafeSiteDir(f"输出目录“{target}”已有其他内容，不是本工具生成的网站，不会覆盖它。"
                            "提示：换一个空目录或不存在的目录，或先自行清空它")
    return resolved


def checked_site_dir(target: Path, protected: dict[str, Path], project: Path) -> Path:
    """:func:`check_site_dir`, with what the file system says on the way as a Chinese error."""
    try:
        return check_site_dir(target, protected, project)
    except RuntimeError as exc:  # pathlib's "Symlink loop"
        raise UnsafeSiteDir(f"输出目录“{shown(target)}”是循环的符号链接。提示：删除这个链接，或指定一个真实的目录") from exc
    except OSError as exc:
        raise BuildFailed(describe_os_error(exc, Path(os.path.abspath(target)))) from exc


def is_site(path: Path) -> bool:
    """A directory this tool published (every published site carries the package's assets)."""
    return (path / SITE_MARK).is_dir()


# --------------------------------------------------------------------------- one build at a time


class SiteLock:
    """The lock of one site directory (a file beside it), held for a whole build, and the journal of
    what that build creates beside the site (kept in the lock file itself).

    A second build waits for the first, saying so, and fails clearly after ``wait`` seconds; the
    operating system releases the lock of a killed build. The next holder reads the journal and
    removes exactly what the dead build made — never anything else, whatever its name: a folder an
    editor happens to call ``.site.building-notes`` is theirs, and stays.
    """

    def __init__(self, target: Path, protected: list[Path] | None = None) -> None:
        self.target = target
        self.path = target.parent / f".{target.name}.lock"
        self.protected = [p.resolve() for p in protected or []]
        self.made: list[str] = []
        self.fd: int | None = None

    def acquire(self, wait: float = LOCK_WAIT_SECONDS) -> None:
        if os.path.lexists(self.path) and not self._is_lock_file():
            raise UnsafeSiteDir(f"“{shown(self.path)}”已经存在，但不是本工具的锁文件，不会改写它。"
                                "提示：把它改名或移走，或换一个输出目录")
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        if not _try_lock(self.fd):
            emit(f"另一个构建正在生成“{shown(self.target)}”，等待它完成……", err=True)
            deadline = time.monotonic() + wait
            while not _try_lock(self.fd):
                if time.monotonic() > deadline:
                    self.release()
                    raise BuildFailed(f"等待另一个构建超过 {int(wait)} 秒，已放弃。"
                                      f"提示：确认没有卡住的 casebook 进程；锁文件是 {shown(self.path)}")
                time.sleep(0.2)

    def _is_lock_file(self) -> bool:
        """An empty regular file or one holding a journal (a JSON list): what this tool writes."""
        try:
            st = os.lstat(self.path)
            if not stat.S_ISREG(st.st_mode) or st.st_size > 1 << 20:
                return False
            raw = Path(self.path).read_bytes()
        except OSError:
            return False
        try:
            return not raw.strip() or isinstance(json.loads(raw.decode("utf-8")), list)
        except ValueError:
            return False

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # releases the lock
            self.fd = None

    def _journal(self) -> list[str]:
        assert self.fd is not None
        os.lseek(self.fd, 0, os.SEEK_SET)
        raw = b""
        while chunk := os.read(self.fd, 65536):
            raw += chunk
        try:
            names = json.loads(raw.decode("utf-8")) if raw.strip() else []
        except ValueError:
            return []
        # Only names of the exact form this tool gives (a pull request can add a lock file too).
        ours = self._own_names()
        return [n for n in names if isinstance(n, str) and ours.fullmatch(n)] if isinstance(names, list) else []

    def _own_names(self) -> re.Pattern[str]:
        building, old, _ = _prefixes(self.target)
        return re.compile(f"(?:{re.escape(building)}|{re.escape(old)})[0-9a-f]{{12}}")

    def _write(self, names: list[str]) -> None:
        assert self.fd is not None
        body = json.dumps(names, ensure_ascii=False).encode("utf-8") if names else b""
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, body, 0)
        os.fsync(self.fd)

    def record(self, path: Path) -> None:
        """Note a path this build is about to create beside the site, before it exists."""
        self.made.append(path.name)
        self._write(self.made)

    def clean(self) -> list[Path]:
        """Remove what the journal says a dead build made (and the downloads beside its staging),
        putting back first a site it had moved aside when the published path is empty."""
        parent = self.target.parent
        names = self._journal()
        entries = [parent / n for n in names]
        for n in names:
            entries += sorted(p for p in parent.glob(f"{glob_escape(n)}.downloads-*")
                              if re.fullmatch(rf"{re.escape(n)}\.downloads-[a-z0-9_]{{8}}", p.name))
        # All of them are directories this tool made; anything else of the same name is not ours.
        entries = [e for e in entries if e.is_dir() and not e.is_symlink() and not self._guarded(e)]
        if not os.path.lexists(self.target):
            aside = [e for e in entries if e.name.startswith(_prefixes(self.target)[1]) and e.is_dir()
                     and not e.is_symlink() and is_site(e)]
            if aside:
                aside[-1].rename(self.target)
                entries.remove(aside[-1])
        for entry in entries:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    entry.unlink()
        self._write([])
        return entries

    def _guarded(self, path: Path) -> bool:
        # Belt and braces: never the site itself, nor anything that is or holds what the editor owns.
        resolved = path.resolve()
        return resolved == self.target.resolve() or any(_inside(p, resolved) for p in self.protected)

    def finish(self) -> None:
        """The build is over (published or failed): what it made and did not keep goes, and the
        journal is emptied."""
        self.clean()


@contextlib.contextmanager
def site_lock(target: Path, protected: list[Path] | None = None,
              wait: float = LOCK_WAIT_SECONDS) -> Iterator[SiteLock]:
    """Hold the lock of ``target`` for a whole build: leftovers of a killed build are removed first,
    and what this build made beside the site is removed when it ends, whichever way."""
    lock = SiteLock(target, protected)
    lock.acquire(wait)
    try:
        lock.clean()
        yield lock
        with contextlib.suppress(OSError):  # leftovers only: the next build removes them
            lock.finish()
    except BaseException:
        with contextlib.suppress(Exception):
            lock.finish()
        raise
    finally:
        lock.release()


def glob_escape(name: str) -> str:
    import glob

    return glob.escape(name)


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here; builds are not serialised there
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


# --------------------------------------------------------------------------- staging and the swap


def _prefixes(target: Path) -> tuple[str, str, str]:
    return f".{target.name}.building-", f".{target.name}.old-", f".{target.name}.downloads-"


def staging_dir(target: Path, lock: SiteLock | None = None) -> Path:
    """A fresh sibling of ``target`` to build into (same filesystem, so the swap is a rename),
    entered in the lock's journal before it exists, so a kill at any point leaves nothing unknown."""
    import secrets

    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f"{_prefixes(target)[0]}{secrets.token_hex(6)}"
    if lock is not None:
        lock.record(staging)
    # Readable by the web server once published (mkdtemp would make it private).
    umask = os.umask(0)
    os.umask(umask)
    staging.mkdir(mode=0o777 & ~umask)
    return staging


def downloads_dir(site_dir: Path) -> Path:
    """Where the downloads process writes, beside the directory being built: named after it, so
    what a killed build left is found and removed with the rest of its leftovers."""
    site_dir = Path(os.path.abspath(site_dir))
    site_dir.parent.mkdir(parents=True, exist_ok=True)
    # Beside a staging directory (".site.building-…"), the name extends the staging's own.
    prefix = f"{site_dir.name}.downloads-" if site_dir.name.startswith(".") else f".{site_dir.name}.downloads-"
    return Path(tempfile.mkdtemp(prefix=prefix, dir=site_dir.parent))


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step; False where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False  # a filesystem without the exchange
    raise OSError(err, os.strerror(err), str(b))


CARRIED = (".git", ".nojekyll")


def carry_hidden(site: Path, staging: Path) -> list[str]:
    """Bring the published site's hidden top-level entries (``.git`` of a gh-pages checkout,
    ``.nojekyll``, ``.htaccess``) into the new site, as MkDocs keeps them when it cleans a site
    directory: nothing the editor put there is lost with the old site. Hard links (a copy where
    links are impossible), so the old site stays whole until the swap and a kill loses nothing."""
    carried: list[str] = []
    if not site.is_dir():
        return carried
    for entry in sorted(site.iterdir()):
        dest = staging / entry.name
        # Only a gh-pages checkout's history and its marker: anything else hidden in the site folder
        # could be planted there (a pull request can force-add files) and would be published unchecked.
        if entry.name not in CARRIED:
            continue
        if entry.is_dir() and not entry.is_symlink():
            # Merged: an incremental build may have linked some of its files in already.
            shutil.copytree(entry, dest, symlinks=True, copy_function=_link_or_copy, dirs_exist_ok=True)
        else:
            _link_or_copy(str(entry), str(dest))
        carried.append(entry.name)
    return carried


def _link_or_copy(src: str, dest: str) -> None:
    if os.path.lexists(dest):
        return
    if os.path.islink(src):
        os.symlink(os.readlink(src), dest)
        return
    try:
        os.link(src, dest, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dest, follow_symlinks=False)


def publish(staging: Path, target: Path, lock: SiteLock | None = None) -> None:
    """Replace ``target`` with ``staging`` whole: the published path is never empty or partial
    (with the exchange; without it, only between two renames, and the lock's journal lets the next
    build put the old site back)."""
    carry_hidden(target, staging)
    _step("publish")
    if not os.path.lexists(target):
        staging.rename(target)
        _step("published")
        return
    if _exchange(staging, target):
        # The old site now sits at the staging path; the new one is published.
        _step("exchanged")
        shutil.rmtree(staging, ignore_errors=True)
        _step("published")
        return
    old = target.with_name(f"{_prefixes(target)[1]}{staging.name.rsplit('-', 1)[-1]}")
    if lock is not None:
        lock.record(old)
    target.rename(old)
    _step("moved-aside")
    try:
        staging.rename(target)
    except OSError:
        old.rename(target)
        raise
    shutil.rmtree(old, ignore_errors=True)
    _step("published")


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


# --------------------------------------------------------------------------- faults in plain words


def describe_os_error(exc: OSError, site: Path | None = None) -> str:
    """An operating-system error as an editor can act on it, in Chinese, with the path. With
    ``site``, a fault outside the site's folder is not blamed on --site-dir."""
    where = f"“{shown(exc.filename)}”" if exc.filename else ""
    code = exc.errno
    if code in (errno.ENOSPC, errno.EDQUOT) and site is not None:
        # The file named may be the one being copied from; what is full is the disk written to.
        return f"磁盘空间不足，输出目录“{shown(site)}”所在的磁盘已满。提示：清理磁盘空间后重新构建；原有网站保持不变"
    if code == errno.EBUSY:
        return f"{where}正被占用（可能是挂载点或正在使用的目录），无法替换。提示：用 --site-dir 指定它下面的一个子目录"
    if site is not None and exc.filename and not _inside(Path(os.path.abspath(exc.filename)), site.parent):
        return (f"读写{where}时出错（{exc.strerror or type(exc).__name__}）。"
                "提示：检查这个文件或目录是否存在、权限是否正确")
    if code in (errno.ENOSPC, errno.EDQUOT):
        return f"磁盘空间不足，无法写入{where}。提示：清理磁盘空间后重新构建；原有网站保持不变"
    if code == errno.EROFS:
        return f"{where}所在的文件系统是只读的，无法写入。提示：用 --site-dir 指定可写的输出目录"
    if code in (errno.EACCES, errno.EPERM):
        return f"没有权限写入{where}。提示：检查输出目录及其上级目录的权限，或用 --site-dir 指定可写的目录"
    if code == errno.EEXIST:
        return f"{where}已存在，但不是目录，无法在其中创建网站。提示：检查 --site-dir 指定的路径"
    if code == errno.ENOENT:
        return f"找不到{where}，也无法创建它。提示：检查 --site-dir 指定的路径"
    if code == errno.ENOTDIR:
        return f"路径{where}中有一部分是文件而不是目录。提示：检查 --site-dir 指定的路径"
    if code == errno.ENAMETOOLONG:
        return f"路径{where}太长。提示：换一个较短的输出目录"
    return f"读写文件{where}时出错（{exc.strerror or type(exc).__name__}）。提示：检查磁盘和目录权限后重新构建"
