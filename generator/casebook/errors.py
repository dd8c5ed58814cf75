"""Errors editors see, the ways `casebook check` prints them, and the one gate every printed line
passes through.

Case text arrives by pull request and ends up in terminals and CI logs. A terminal obeys escape
sequences (ESC, CSI, OSC hyperlinks), and a CI runner obeys any output line that is a workflow
command (``::error``, ``::add-mask::``, ``::stop-commands::`` on GitHub; ``##[…]`` anywhere in a
line there too). So every message is printed through :func:`printable` (a block of lines) after
its user text went through :func:`shown` (one line): characters that control or hide are shown as
``\\u001b``-style escapes (the JSON spelling, so JSON output stays valid and means the same), a
newline in a value never starts an output line, and no line can begin with ``::`` from user text.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict, dataclass
from typing import TextIO

# Characters that drive a terminal or CI log, hide text, reorder it, or break a line where editors
# do not (C0/DEL/C1 controls, NEL, line and paragraph separators, bidi controls, BOM, interlinear
# annotations, non-characters, tag characters, lone surrogates from undecodable file names).
# \t, \n and \r are left to the caller: each has a legitimate meaning in some contexts.
HIDDEN_CLASS = (r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                r"\u2066-\u2069\ufeff\ufff9-\ufffb\ufffe\uffff\U000e0000-\U000e007f\ud800-\udfff")
HIDDEN = re.compile(f"[{HIDDEN_CLASS}]")
_ONE_LINE = re.compile(f"[{HIDDEN_CLASS}\n\r]")  # a value shown inside one output line
_IN_BLOCK = re.compile(f"[{HIDDEN_CLASS}\r]")  # a block printed as lines: \n separates them
_V1_COMMAND = "##["  # GitHub's runner reads "##[command]" anywhere in a line
_V1_BROKEN = "#\\u0023["

_NAMES = {
    "\x00": "空字符", "\x0b": "垂直制表符", "\x0c": "换页符", "\x1b": "转义字符 ESC", "\x7f": "删除符 DEL",
    "\x85": "下一行符 NEL", "\u2028": "行分隔符", "\u2029": "段分隔符", "\ufeff": "零宽不换行空格 BOM",
    "\u061c": "文字方向标记", "\u200e": "文字方向标记", "\u200f": "文字方向标记",
}


def hidden_name(ch: str) -> str:
    """The Chinese name of a character in :data:`HIDDEN`, for editors' messages."""
    cp = ord(ch)
    if ch in _NAMES:
        return _NAMES[ch]
    if cp < 0x20 or 0x7F <= cp <= 0x9F:
        return "控制字符"
    if 0x202A <= cp <= 0x202E or 0x2066 <= cp <= 0x2069:
        return "双向文字控制符"
    if 0xE0000 <= cp <= 0xE007F:
        return "标签字符"
    return "不可见字符"


def escape_char(ch: str) -> str:
    """``ch`` as JSON writes it escaped: \\n, \\r, \\u001b; astral characters as a surrogate pair."""
    if ch == "\n":
        return "\\n"
    if ch == "\r":
        return "\\r"
    cp = ord(ch)
    if cp > 0xFFFF:
        cp -= 0x10000
        return f"\\u{0xD800 + (cp >> 10):04x}\\u{0xDC00 + (cp & 0x3FF):04x}"
    return f"\\u{cp:04x}"


def _visible(match: re.Match[str]) -> str:
    return escape_char(match.group())


def shown(text: object) -> str:
    """User text for one output line: hidden characters and line breaks shown as escapes."""
    return _ONE_LINE.sub(_visible, str(text)).replace(_V1_COMMAND, _V1_BROKEN)


def printable(text: str, commands: bool = False) -> str:
    """A block of output lines, safe for a terminal and a CI log.

    Hidden characters become escapes (JSON stays valid JSON with the same values) and no line
    begins with ``::``. With ``commands``, lines that begin with ``::`` are kept: they are workflow
    commands this program wrote, every user part of them escaped (see :meth:`CaseError.github`)."""
    lines = []
    for line in _IN_BLOCK.sub(_visible, text).split("\n"):
        line = line.replace(_V1_COMMAND, _V1_BROKEN)
        rest = line.lstrip()
        if rest.startswith("::") and not (commands and line.startswith("::")):
            cut = len(line) - len(rest)
            line = line[:cut] + "\\u003a" + line[cut + 1:]
        lines.append(line)
    return "\n".join(lines)


def emit(text: str, *, err: bool = False, commands: bool = False, end: str = "\n",
         stream: TextIO | None = None) -> None:
    """Print through :func:`printable`: the one way the command line writes anything."""
    out = stream or (sys.stderr if err else sys.stdout)
    print(printable(text, commands=commands), end=end, file=out)


@dataclass(frozen=True, order=True)
class CaseError:
    """One problem in one case file. ``message`` is Chinese and ends with a 提示 (fix hint)."""

    file: str
    line: int
    column: int
    field: str  # dotted path such as observations[3].value; "" for the file as a whole
    message: str
    label: str = ""  # the field's Chinese title, e.g. 数值

    def text(self) -> str:
        """One output line, whatever the file name, field or message holds."""
        where = f"{self.file}:{self.line}:{self.column}"
        if self.field:
            label = self.label or "字段"
            return shown(f"{where}: {label} ({self.field}): {self.message}")
        return shown(f"{where}: {self.message}")

    def github(self) -> str:
        # Workflow commands need %, CR and LF escaped, and also : and , in properties. shown()
        # has already turned CR, LF and every hidden character into visible escapes, so what is
        # left to escape is % everywhere and : , in properties.
        def esc(s: str, prop: bool = False) -> str:
            s = shown(s).replace("%", "%25")
            return s.replace(":", "%3A").replace(",", "%2C") if prop else s

        title = esc(f"{self.label or '字段'} ({self.field})" if self.field else "案例文件", prop=True)
        return (f"::error file={esc(self.file, True)},line={self.line},col={self.column},"
                f"title={title}::{esc(self.message)}")


class CasebookError(Exception):
    """The base of every error the library raises for people to read: a Chinese message, and the
    command line's exit code (1: the input is invalid or the build failed; 2: a usage error)."""

    exit_code = 1


class UsageError(CasebookError):
    """The command was given something it cannot use (exit 2); nothing was written."""

    exit_code = 2


class CasebookInvalid(CasebookError):
    """Raised by library entry points that need a valid casebook; carries every error."""

    def __init__(self, errors: list[CaseError]) -> None:
        self.errors = errors
        super().__init__("\n".join(e.text() for e in errors))


def format_text(errors: list[CaseError]) -> str:
    return "\n".join(e.text() for e in errors)


def format_github(errors: list[CaseError]) -> str:
    return "\n".join(e.github() for e in errors)


def format_json(errors: list[CaseError], counts: dict[str, int]) -> str:
    payload = {
        "ok": not errors,
        "counts": counts,
        "errors": [
            {k: v for k, v in asdict(e).items() if k in ("file", "line", "column", "field", "message")}
            for e in errors
        ],
    }
    return json.dumps(payload, ensure_ascii=False, indent=2)


def format_gitlab(errors: list[CaseError]) -> str:
    """GitLab Code Quality report (Code Climate JSON): shown on the merge request's changed lines."""
    import hashlib

    issues = [{
        "description": f"{e.label or '字段'} ({e.field}): {e.message}" if e.field else e.message,
        "check_name": "casebook",
        "fingerprint": hashlib.sha256(f"{e.file}:{e.line}:{e.column}:{e.field}:{e.message}"
                                      .encode("utf-8", "surrogatepass")).hexdigest(),
        "severity": "major",
        "location": {"path": e.file, "lines": {"begin": e.line}},
    } for e in errors]
    return json.dumps(issues, ensure_ascii=False, indent=2)
