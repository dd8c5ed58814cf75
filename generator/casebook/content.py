"""Hand-written pages (``content/``) and theme overrides arrive by pull request like case files, so
they are checked before MkDocs reads them, with the same located Chinese errors.

- No symbolic link and nothing but regular files and folders: MkDocs follows links, so a link in
  ``content/`` would publish any file of the machine that builds the site (a CI runner's secrets).
- Front matter is YAML read by the casebook's own loader (MkDocs drops a broken one silently and
  prints it as text), and only keys a reader-facing page needs are allowed: ``template``,
  ``location`` and the like would let a page choose a theme template that prints values raw, as
  Material's ``redirect.html`` does into a script.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any

from .errors import CaseError
from .loader import load_text
from .validate import display_path as _display

# Keys a hand-written page may set, and the form each value must take.
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_ICON = re.compile(r"[a-z0-9-]+(?:/[a-z0-9-]+)+")
ALLOWED_META: dict[str, str] = {
    "title": "文字", "description": "文字", "subtitle": "文字",
    "icon": "图标名，如 material/book-open", "status": "状态名，如 new",
    "hide": "列表：navigation、toc、footer、feedback 中的若干项", "search": "如 exclude: true",
    "tags": "文字列表",
}
# What MkDocs reads as a page (mkdocs.utils.markdown_extensions) — every one gets the page checks.
MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkdn", ".mkd")
# Everything else in content/ is copied into the site byte for byte, unsanitised: only kinds that
# cannot run or fetch anything in a reader's browser.
STATIC_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".pdf", ".csv", ".xlsx", ".docx", ".txt")
_HIDE = {"navigation", "toc", "footer", "feedback", "path", "tags"}
# MkDocs' own rule for where front matter is (mkdocs.utils.meta): the file starts with a --- line.
_FRONT = re.compile(r"\A-{3}[ \t]*\r?\n(.*?\r?\n)??(?:\.{3}|-{3})[ \t]*(?:\r?\n|\Z)", re.S)


def check_tree(root: Path, static_only: bool = False) -> list[CaseError]:
    """Every symbolic link and every special file (pipe, device) under ``root``, as errors; with
    ``static_only`` (the pages folder), also every file that would be published as it is and is
    not of a kind that is inert in a browser (HTML, scripts, SVG, CSS)."""
    errors: list[CaseError] = []
    if not root.is_dir():
        return errors
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in sorted(dirnames + filenames):
            path = Path(dirpath) / name
            try:
                name.encode("utf-8")
            except UnicodeEncodeError:  # bytes that are not UTF-8, kept by Python as surrogates
                shown_name = _display(path).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                errors.append(CaseError(shown_name, 1, 1, "", "文件名含有无法识别的字符（不是 UTF-8 编码）。"
                                                             "提示：把文件改名为中文或英文的正常名称"))
                continue
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                errors.append(CaseError(_display(path), 1, 1, "", "这是符号链接，不予读取或发布（它可能指向项目之外的文件）。"
                                                                  "提示：删除链接，把真实文件放在这里"))
            elif not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                errors.append(CaseError(_display(path), 1, 1, "", "这不是普通文件（可能是管道或设备），不予读取。"
                                                                  "提示：删除它"))
            elif (stat.S_ISREG(mode) and static_only and not name.startswith(".")
                  and not name.lower().endswith(MARKDOWN_SUFFIXES + STATIC_SUFFIXES)):
                errors.append(CaseError(_display(path), 1, 1, "", "页面目录中不能放这类文件：它会原样发布，可能含有脚本或外部请求。"
                                        f"提示：正文写成 .md 页面；附件只用 {'、'.join(STATIC_SUFFIXES)}"))
        dirnames[:] = [d for d in dirnames if not (Path(dirpath) / d).is_symlink() and _utf8(d)]
    return errors


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_front_matter(path: Path) -> list[CaseError]:
    """A hand-written page's front matter: readable YAML with only the allowed keys and forms."""
    display = _display(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        return [CaseError(display, 1, 1, "", "页面文件不是 UTF-8 编码。提示：用编辑器另存为 UTF-8")]
    except OSError:
        return []  # check_tree reports what cannot be read
    m = _FRONT.match(text)
    if not m:
        return _check_mmd_meta(text, display)
    loaded, errors = load_text(m.group(1) or "", display)
    # The loader counts from the front matter's first line, which is the file's second.
    errors = [CaseError(e.file, e.line + 1, e.column, e.field, e.message, e.label) for e in errors]
    data = loaded.data
    if errors:
        return errors
    if data is None:
        return []
    if not isinstance(data, dict):
        return [CaseError(display, 2, 1, "", "页面开头的设置（front matter）应是“键: 值”的形式。提示：如 title: 关于本站")]

    def err(key: str, message: str) -> None:
        pos = loaded.pos((key,), key=True)
        errors.append(CaseError(display, pos.line + 1, pos.column, key, message))

    for key, value in data.items():
        if key not in ALLOWED_META:
            err(key, f"页面设置中不允许“{key}”。提示：可用的有：{'、'.join(ALLOWED_META)}；"
                     "模板、跳转等由网站配置决定，不在页面中设置")
        elif not _valid(key, value):
            err(key, f"“{key}”的值应是{ALLOWED_META[key]}。提示：按这个形式改写，或删去这一行")
    return errors


# MkDocs' other form (mkdocs.utils.meta): "key: value" lines at the very top, up to a blank line.
_MMD_KEY = re.compile(r"[ ]{0,3}(?P<key>[A-Za-z0-9_-]+):\s*(?P<value>.*)")
_MMD_MORE = re.compile(r"([ ]{4}|\t)(\s*)(?P<value>.*)")


def _check_mmd_meta(text: str, display: str) -> list[CaseError]:
    """Settings written as MultiMarkdown lines, which MkDocs reads as front matter too: the same
    allow-list, so no page sets a template or a redirect this way either."""
    errors: list[CaseError] = []
    values: dict[str, tuple[int, str]] = {}
    key = None
    for number, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        if line.strip() == "":
            break
        if m := _MMD_KEY.match(line):
            key = m.group("key").lower().strip()
            first, earlier = values.get(key, (number, ""))
            values[key] = (first, f"{earlier} {m.group('value').strip()}".strip())
        elif (m2 := _MMD_MORE.match(line)) and key:
            first, earlier = values[key]
            values[key] = (first, f"{earlier} {m2.group('value').strip()}")
        else:
            break
    for key, (line_no, value) in values.items():
        if key not in ALLOWED_META:
            errors.append(CaseError(display, line_no, 1, key, f"页面开头的“{key}: …”会被当作页面设置，而页面设置中不允许“{key}”。"
                                    f"提示：可用的有：{'、'.join(ALLOWED_META)}；正文请从标题（# …）或空一行后开始"))
        elif key in ("icon", "status") and not _valid(key, value):
            errors.append(CaseError(display, line_no, 1, key, f"“{key}”的值应是{ALLOWED_META[key]}。提示：按这个形式改写，或删去这一行"))
    return errors


def _valid(key: str, value: Any) -> bool:
    if key in ("title", "description", "subtitle"):
        return isinstance(value, str)
    if key == "icon":
        return isinstance(value, str) and bool(_ICON.fullmatch(value))
    if key == "status":
        return isinstance(value, str) and bool(_WORD.fullmatch(value))
    if key == "hide":
        return isinstance(value, list) and all(isinstance(v, str) and v in _HIDE for v in value)
    if key == "search":
        return isinstance(value, dict) and set(value) <= {"exclude", "boost"} and all(
            isinstance(v, str) for v in value.values())
    if key == "tags":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return False


def check_content(docs_dir: Path, overrides: Path | None = None) -> list[CaseError]:
    """Everything wrong with the hand-written pages and the theme overrides, all at once."""
    errors = check_tree(docs_dir, static_only=True)
    if overrides is not None:
        errors += check_tree(overrides)
    if docs_dir.is_dir():
        for dirpath, dirnames, filenames in os.walk(docs_dir, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if not (Path(dirpath) / d).is_symlink() and _utf8(d))
            for name in sorted(filenames):
                path = Path(dirpath) / name
                if name.lower().endswith(MARKDOWN_SUFFIXES) and _utf8(name) and path.is_file() and not path.is_symlink():
                    errors += check_front_matter(path)
    return sorted(errors, key=lambda e: (e.file, e.line, e.column))
