"""Incremental builds: rebuild only the pages whose content changed since the site being replaced.

A build records a manifest (in the cache directory, one per published site directory): a key for
everything every page depends on (configuration, theme overrides, navigation, the list of files,
the package's code and the MkDocs/Material versions), a hash of each generated file's content, and
each page's search documents. The next build of the same site directory starts from a copy of the
published site's files and lets MkDocs skip every file whose hash is unchanged — provided the global key is
the same and the published site is exactly as that build left it (same files, sizes and times);
otherwise the build is a full one. Either way the result is the same site, which a test checks
byte for byte.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .store import content_hash, tree_digest, write_atomic

MANIFEST_VERSION = 1


def global_key(config_file: Path, overrides: Path | None, code: str, host: Any) -> str:
    """What every page depends on; any change to it means a full build. ``host``: what the host
    adds (its loaded settings, navigation, file list, versions)."""
    material = {
        "manifest": MANIFEST_VERSION,
        "config": config_file.read_text(encoding="utf-8") if config_file.is_file() else "",
        "overrides": tree_digest(overrides),
        "code": code,
        "host": host,
    }
    return content_hash(json.dumps(material, sort_keys=True, ensure_ascii=False, default=_stable))


def _stable(value: Any) -> str:
    """A settings value as text that is the same in every process: functions by name, and no
    memory addresses (a key that changed with them would make every build a full one)."""
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '')}.{value.__qualname__}"
    return re.sub(r" at 0x[0-9a-fA-F]+", "", str(value))


def manifest_path(cache_dir: Path, target: Path) -> Path:
    return cache_dir / "builds" / f"{content_hash(str(target.resolve()))[:16]}.json"


def snapshot(site: Path) -> dict[str, list[int]]:
    """Every file of a site with its size and modification time."""
    out = {}
    for path in site.rglob("*"):
        if path.is_file() or path.is_symlink():
            st = path.lstat()
            out[path.relative_to(site).as_posix()] = [st.st_size, st.st_mtime_ns]
    return out


def load_previous(cache_dir: Path, target: Path) -> dict[str, Any] | None:
    """The manifest of the site now at ``target``, if the site is exactly as that build left it
    (no file added, removed or touched since); None means build in full."""
    try:
        manifest = json.loads(manifest_path(cache_dir, target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("version") != MANIFEST_VERSION:
        return None
    return manifest if manifest.get("tree") == snapshot(target) else None


def save(cache_dir: Path, target: Path, manifest: dict[str, Any]) -> None:
    body = json.dumps({**manifest, "version": MANIFEST_VERSION, "tree": snapshot(target)}, ensure_ascii=False,
                      separators=(",", ":"))
    write_atomic(manifest_path(cache_dir, target), body.encode("utf-8"))


def link_unchanged(old_site: Path, new_site: Path, files: dict[str, Any]) -> int:
    """Bring every file of the old site that the new build did not write into the new site, as a
    hard link (a copy where links are impossible). Safe only once the build has finished writing in
    place: a write through a link would change the published site too. Returns how many."""
    import os
    import shutil

    count = 0
    for rel in files:
        dest = new_site / rel
        if os.path.lexists(dest):
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(old_site / rel, dest, follow_symlinks=False)
        except OSError:
            shutil.copy2(old_site / rel, dest, follow_symlinks=False)
        count += 1
    return count
