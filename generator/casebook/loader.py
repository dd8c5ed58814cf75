"""Load one case file: safe, strict YAML with a line and column for every value.

Case files arrive by pull request from editors who are not programmers, so the loader
- reads UTF-8 only (a BOM is fine) and names the encoding it sees otherwise;
- refuses anchors/aliases, tags, directives and several documents, which a case never needs
  and which make alias bombs possible;
- caps file size and nesting depth before building anything, so hostile input fails fast;
- keeps every scalar as the text the editor wrote (``NO``, ``on``, ``0123``, ``1:20``): the
  schema decides types later, instead of YAML 1.1's guessing;
- reports duplicate keys, tabs and full-width colons with their position and a fix;
- reports every invisible or control character (ESC, NEL, U+2028, bidi overrides …) at the line
  and column an editor shows, counting lines as editors do (LF, CRLF and CR only), before YAML,
  which would count some of them as line breaks and stop at the first with an English message;
- reports an unclosed quote where it opens, not where YAML noticed, lines later;
- reports a file whose extension is not ``.yaml`` (``.yml``, ``.YAML``) instead of skipping it.

It walks PyYAML's event stream (libyaml when available) rather than its composer, because the
composer recurses per nesting level and resolves aliases before we could refuse them.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import HIDDEN_CLASS, CaseError, hidden_name
from .store import Store, code_digest, content_hash

MAX_BYTES = 256 * 1024
MAX_DEPTH = 12
MAX_NODES = 50_000
MAX_HIDDEN_REPORTED = 200  # per file: a hostile file full of them gets a count, not 256 K lines

_Parser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NULLS = {"", "~", "null", "Null", "NULL"}

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class Pos:
    line: int  # 1-based
    column: int  # 1-based, in characters


class LoadedFile:
    """One parsed file: its data, and where each value and key starts (for messages).

    A file read back from the build cache keeps its positions as the cached JSON text until a
    message asks for one: building a table of every value's position for every file of a large
    casebook was a large part of a rebuild in which nothing is wrong."""

    def __init__(self, path: Path, display: str, data: Any = None, positions: dict[Path_, Pos] | None = None,
                 key_positions: dict[Path_, Pos] | None = None, packed: str | None = None,
                 packed_data: str | None = None) -> None:
        self.path = path
        self.display = display  # the path as shown in messages
        self._data = data
        # The data as cached JSON, not yet read: a file whose validated model is cached too is never
        # looked into (validate._cached_model), and decoding a thousand files' data was most of a no-op.
        self._packed_data = packed_data
        empty = packed is None
        self._positions = {} if positions is None and empty else positions  # where each value starts
        self._key_positions = {} if key_positions is None and empty else key_positions  # where each key starts
        self._packed = packed  # both tables as cached (see _cache_body), not yet read
        self.digest = ""  # the build cache's key for this file's bytes, when it went through the cache

    @property
    def data(self) -> Any:
        if self._packed_data is not None:
            packed, self._packed_data = self._packed_data, None
            self._data = json.loads(packed)
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        self._data, self._packed_data = value, None

    @property
    def unread(self) -> bool:
        """Whether the data is still the cached JSON text, not yet decoded (see _packed_data)."""
        return self._packed_data is not None

    @property
    def has_data(self) -> bool:
        """Whether the file could be read at all (its data is not None), without reading the data."""
        if self._packed_data is not None:
            return self._packed_data != "null"
        return self._data is not None

    @property
    def positions(self) -> dict[Path_, Pos]:
        if self._positions is None:
            self._unpack()
        assert self._positions is not None
        return self._positions

    @positions.setter
    def positions(self, value: dict[Path_, Pos]) -> None:
        self._positions = value

    @property
    def key_positions(self) -> dict[Path_, Pos]:
        if self._key_positions is None:
            self._unpack()
        assert self._key_positions is not None
        return self._key_positions

    @key_positions.setter
    def key_positions(self, value: dict[Path_, Pos]) -> None:
        self._key_positions = value

    def _unpack(self) -> None:
        packed, self._packed = self._packed, None
        try:
            body = json.loads(packed or "")
            positions = {tuple(loc): Pos(line, col) for loc, line, col in body["positions"]}
            keys = {tuple(loc): Pos(line, col) for loc, line, col in body["keys"]}
        except (ValueError, KeyError, TypeError):
            # A damaged cache entry: the positions are read from the file again (never a crash).
            try:
                fresh, _ = _read(self.path, self.display, None)
            except OSError:
                fresh = LoadedFile(self.path, self.display)
            positions, keys = fresh.positions, fresh.key_positions
        if self._positions is None:
            self._positions = positions
        if self._key_positions is None:
            self._key_positions = keys

    def pos(self, loc: Path_, key: bool = False) -> Pos:
        """Position of ``loc``; of its key if asked; else of the nearest ancestor known."""
        table = self.key_positions if key else self.positions
        if loc in table:
            return table[loc]
        for i in range(len(loc) - 1, -1, -1):
            if loc[:i] in self.positions:
                return self.positions[loc[:i]]
        return Pos(1, 1)


class _Abort(Exception):
    """Stops reading a file after an error that leaves nothing sensible to read."""


# --------------------------------------------------------------------------- bytes → text

_KEY_FULLWIDTH_COLON = re.compile(r"^(\s*(?:-\s+)?)([A-Za-z_][A-Za-z0-9_]*)\s*：")
_KEY_NO_SPACE = re.compile(r"^(\s*(?:-\s+)?)([A-Za-z_][A-Za-z0-9_]*):(?![\s/]|$)")
_KEY_FULLWIDTH_SPACE = re.compile(r"^(\s*(?:-\s+)?)([A-Za-z_][A-Za-z0-9_]*):\u3000")


# What editors (VS Code among them) count as a line break. YAML also breaks lines at NEL, U+2028
# and U+2029; those are reported as hidden characters before YAML reads the file, so every line
# number given, ours or YAML's, is the one the editor shows.
_BREAK = re.compile(r"\r\n|\r|\n")
# Hidden characters, and a CR that is not part of CRLF (one editor shows as a line break, another
# as nothing, and YAML folds into the text).
_SUSPECT = re.compile(rf"[{HIDDEN_CLASS}]|\r(?!\n)")
# What an escape in double quotes may write that the file's text cannot show: a hidden character,
# or a carriage return (a line break to Markdown, not to the editor).
_ESCAPED = re.compile(rf"[{HIDDEN_CLASS}\r]")

# Chinese text has no spaces between words. YAML folds a long value (``>-`` or a plain scalar over
# several lines) by joining its lines with a space, which then shows as a stray gap: "联合体。 组团".
# A run of half-width spaces between two CJK characters (Han, CJK and full-width punctuation,
# curly quotes, …, —) is dropped; a space next to a Latin letter or digit is kept ("DB33 标准").
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003134f\u3000-\u303f\uff00-\uffef\u2018-\u201f\u2026\u2014"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}]) +(?=[{_CJK}])")


def join_cjk(text: str) -> str:
    """``text`` without the half-width spaces between two CJK characters (see _CJK_GAP)."""
    return _CJK_GAP.sub("", text) if " " in text else text


class _Lines:
    """Line and column (1-based, in characters) of an offset into the text, as editors count."""

    def __init__(self, text: str) -> None:
        self.starts = [0, *(m.end() for m in _BREAK.finditer(text))]

    def at(self, offset: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.starts, offset) - 1
        return i + 1, offset - self.starts[i] + 1


def _decode(raw: bytes, display: str) -> tuple[str | None, list[CaseError]]:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, [CaseError(display, 1, 1, "", "文件是 UTF-16 编码，案例文件须为 UTF-8 编码。"
                                "提示：在编辑器中用“另存为”选择 UTF-8 编码后保存")]
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        before = raw[:exc.start].decode("utf-8", errors="replace")
        line, column = _Lines(before).at(len(before))
        guess = ""
        try:
            raw.decode("gb18030")
            guess = "（看起来是 GBK/GB18030 编码，常见于 Windows 记事本和 WPS 的默认保存）"
        except UnicodeDecodeError:
            pass
        return None, [CaseError(display, line, column, "",
                                f"文件不是 UTF-8 编码{guess}。提示：在编辑器中用“另存为”选择 UTF-8 编码后保存")]


def _hidden_characters(text: str, display: str) -> list[CaseError]:
    """Every character an editor does not show (or shows differently from YAML), at its place."""
    found = list(_SUSPECT.finditer(text))
    if not found:
        return []
    lines = _Lines(text)
    errors = []
    for m in found[:MAX_HIDDEN_REPORTED]:
        line, column = lines.at(m.start())
        ch = m.group()
        if ch == "\r":
            message = ("这里有单独的回车符（CR，U+000D）：有的编辑器把它显示为换行，有的什么也不显示，文字和行号因此对不上。"
                       "提示：删除这个不可见字符；或在 VS Code 中打开后保存一次，换行符会统一为 LF 或 CRLF")
        else:
            message = (f"这里有看不见的{hidden_name(ch)}（U+{ord(ch):04X}），它会让文字或行号错乱。"
                       "提示：删除这个不可见字符（VS Code 会用红框或高亮标出它的位置）")
        errors.append(CaseError(display, line, column, "", message))
    if len(found) > MAX_HIDDEN_REPORTED:
        line, column = lines.at(found[MAX_HIDDEN_REPORTED].start())
        errors.append(CaseError(display, line, column, "",
                                f"从这里起还有 {len(found) - MAX_HIDDEN_REPORTED} 个同类的不可见字符，未逐一列出。"
                                "提示：删除这些不可见字符；若文件是从网页或文档复制的，请改为手工输入或粘贴为纯文本"))
    return errors


def _lint_lines(text: str, display: str) -> list[CaseError]:
    """Mistakes that make YAML fail confusingly (or parse into the wrong shape), caught by line."""
    errors = []
    for n, line in enumerate(_BREAK.split(text), start=1):
        indent = len(line) - len(line.lstrip(" \t\u3000"))
        lead = line[:indent]
        if "\t" in lead:
            errors.append(CaseError(display, n, lead.index("\t") + 1, "",
                                    "缩进里有制表符（Tab）。提示：YAML 只能用空格缩进，请把 Tab 换成空格（每级两个）"))
        elif "\u3000" in lead:
            errors.append(CaseError(display, n, lead.index("\u3000") + 1, "",
                                    "缩进里有全角空格。提示：请改用半角空格缩进（切换到英文输入法）"))
        if m := _KEY_FULLWIDTH_COLON.match(line):
            col = line.index("：", m.end(2)) + 1
            errors.append(CaseError(display, n, col, m.group(2),
                                    f"“{m.group(2)}”后面用了全角冒号“：”。提示：改成半角冒号加空格“: ”（切换到英文输入法）"))
        elif m := _KEY_FULLWIDTH_SPACE.match(line):
            errors.append(CaseError(display, n, m.end(2) + 2, m.group(2),
                                    f"“{m.group(2)}:”后面是全角空格。提示：冒号后请用半角空格"))
        elif (m := _KEY_NO_SPACE.match(line)) and not line.lstrip().startswith("#"):
            errors.append(CaseError(display, n, m.end(2) + 1, m.group(2),
                                    f"“{m.group(2)}:”后面缺少空格。提示：冒号后要加一个半角空格，如 {m.group(2)}: 值"))
    return errors


# --------------------------------------------------------------------------- parser messages

def _explain(exc: yaml.MarkedYAMLError) -> tuple[str, str]:
    """PyYAML's and libyaml's English, as a Chinese problem and hint (their wording differs)."""
    problem = f"{exc.context or ''} {exc.problem or ''}"
    if "scanning an alias" in problem or "scanning an anchor" in problem:
        return ("“*”或“&”不能直接写在值的开头（YAML 会把它当成别名/锚点）",
                "原文脱敏的数值写成带引号的 '*'，如 value: '*'；以 * 开头的文字也要加引号，如 '*区'")
    if "nesting depth" in problem:
        return f"嵌套超过 {MAX_DEPTH} 层", "案例文件只需浅层结构，请检查括号和缩进"
    if "'\\t'" in problem or "tab" in problem.lower():
        return "这里有制表符（Tab）", "YAML 只能用空格缩进，请把 Tab 换成空格"
    if "could not find expected ':'" in problem:
        return ("这一行缺少“: ”（半角冒号加空格）或缩进不对齐",
                "每个字段写成“字段名: 值”；文字跨行时请给整段加引号，并检查上一行的引号是否成对")
    if "mapping values are not allowed" in problem:
        return ("这里出现了多余的“: ”", "文字里含有“: ”时请用引号把整个值括起来")
    if "block sequence entries are not allowed" in problem:
        return ("这里不能开始“- ”列表项", "列表写在“字段名:”的下一行，每项以“- ”开头，并比字段名多缩进两格")
    if "did not find expected key" in problem or "expected <block end>" in problem or "'-' indicator" in problem:
        return ("缩进不对齐", "同一层的字段要左对齐，列表项以“- ”开头并与同级对齐")
    if "unknown escape" in problem:
        return ("双引号里的反斜杠“\\”无法识别", "改用单引号，或写成两个反斜杠“\\\\”")
    if "found unexpected end of stream" in problem or "quoted scalar" in problem:
        return ("引号没有成对", "检查这一行起的引号是否都已闭合")
    if "expected alphabetic or numeric character" in problem:
        return ("“*”或“&”不能直接写在值的开头",
                "原文脱敏的数值写成带引号的 '*'；以 * 开头的文字也要加引号，如 '*区'")
    if "cannot start any token" in problem:
        return ("值不能以这个符号开头（YAML 保留了 @、` 等符号）", "给整个值加上引号，如 '@某某'")
    if "flow" in problem or "',' or ']'" in problem or "',' or '}'" in problem:
        return ("方括号或花括号没有成对", "案例文件不需要 [ ] 或 { } 的写法：列表每项一行、以“- ”开头；"
                                        "文字以括号开头时请给整个值加引号")
    if "block scalar" in problem:
        return ("“|”或“>”后面的写法不对", "“|”或“>”后面只能跟“-”或“+”，文字从下一行开始并比字段名多缩进两格")
    if "tag" in problem:
        return ("不支持以“!”开头的类型标签", "删去 ! 开头的部分，直接写值；需要文字时加引号")
    if "directive" in problem or "document" in problem:
        return ("文件结构不对（YAML 把这里当成了文档分隔或指令）",
                "删去以“---”“...”或“%”开头的行；文字以这些符号开头时请加引号")
    if "comment or a line break" in problem:
        return ("这一行的末尾有多余的内容", "删去多余的文字，或给整个值加引号")
    return ("YAML 语法错误", "检查这一行和上一行的缩进、冒号和引号是否成对")


_INDICATOR_END = " \t"  # what must follow "-", "?" and ":" for them to be indicators
_Span = tuple[int, int, int | None, int | None]


def _quote_spans(lines: list[str]) -> Iterator[_Span]:
    """(line, column, closing line, closing column), 0-based, of each quoted scalar; the closing
    pair is None for one that never closes.

    Found the way YAML's scanner finds them: a quote opens only at the start of a key or value
    (after indentation, ``- ``, ``: ``, ``? `` or a flow indicator), never inside plain text, a
    comment or a block scalar; ``''`` inside single quotes and a backslash escape inside double
    quotes do not close them."""
    quote = ""
    start = (0, 0)
    block_indent: int | None = None  # inside a "|" or ">" block: lines indented more are its text
    flow = 0
    for n, line in enumerate(lines):
        i, at_token = 0, quote == ""
        indent = len(line) - len(line.lstrip(" "))
        if not quote:
            if block_indent is not None:
                if not line.strip() or indent > block_indent:
                    continue
                block_indent = None
            i = indent
        while i < len(line):
            ch = line[i]
            if quote == "'":
                if ch == "'" and line[i + 1:i + 2] == "'":
                    i += 2
                    continue
                if ch == "'":
                    quote, at_token = "", False
                    yield (*start, n, i)
            elif quote == '"':
                if ch == "\\":
                    i += 2
                    continue
                if ch == '"':
                    quote, at_token = "", False
                    yield (*start, n, i)
            elif ch == "#" and (i == 0 or line[i - 1] in _INDICATOR_END):
                break
            elif ch in "'\"" and at_token:
                quote, start = ch, (n, i)
            elif ch in _INDICATOR_END:
                pass
            elif ch in "-?:" and (i + 1 == len(line) or line[i + 1] in _INDICATOR_END) and (at_token or ch == ":"):
                at_token = True
            elif (ch in "[{" and at_token) or (ch == "," and flow):
                flow += ch != ","
                at_token = True
            elif ch in "]}" and flow:
                flow -= 1
                at_token = False
            elif ch in "|>" and at_token and not flow:
                block_indent = indent
                break
            elif ch == ":" and flow:
                at_token = True
            else:
                at_token = False
            i += 1
    if quote:
        yield (*start, None, None)


def _quote_error(text: str, problem_line: int, problem_column: int, display: str) -> CaseError | None:
    """A YAML error caused by a quote, placed where the editor must change it (YAML reports where
    it noticed): a quote that opened on an earlier line and ran on to the error, or a quote inside
    quoted text that ended it early, the rest of the line left over."""
    lines = _BREAK.split(text)
    spans = list(_quote_spans(lines))
    runaway = [s for s in spans if s[0] < problem_line and s[2] in (problem_line, None)]
    early = [s for s in spans if s[2] == problem_line and s[3] is not None and s[3] < problem_column
             and not lines[problem_line][s[3] + 1:problem_column].strip()]
    if runaway:
        line, column, closed, _ = runaway[-1]
    elif early:
        line, column, closed, close_column = early[-1]
    else:
        return None
    kind, mark = ("单引号", "'") if lines[line][column] == "'" else ("双引号", '"')
    inside = "写成两个 ''" if mark == "'" else "写成 \\\"，或改用单引号括起整段"
    if runaway:
        until = "文件末尾" if closed is None else f"第 {closed + 1} 行的下一个引号"
        return CaseError(display, line + 1, column + 1, "",
                         f"这里的{kind}没有闭合，YAML 把从这里到{until}之间的内容都读成了一段文字。"
                         f"提示：在这段文字末尾补上{kind} {mark}；文字里要写{kind}时{inside}")
    assert close_column is not None and closed is not None
    return CaseError(display, closed + 1, close_column + 1, "",
                     f"这个{kind}提前结束了引号里的文字，后面的内容无法读取。提示：文字里要写{kind}时{inside}")


# --------------------------------------------------------------------------- events → data

class _Builder:
    def __init__(self, display: str) -> None:
        self.display = display
        self.errors: list[CaseError] = []
        self.positions: dict[Path_, Pos] = {}
        self.key_positions: dict[Path_, Pos] = {}
        # Each frame: [container, path, pending_key, key_pos, seen_keys]
        self.stack: list[list[Any]] = []
        self.root: Any = None
        self.nodes = 0

    def error(self, mark: Any, message: str, field: str = "") -> None:
        self.errors.append(CaseError(self.display, mark.line + 1, mark.column + 1, field, message))

    def _refuse_anchor(self, event: Any) -> None:
        if getattr(event, "anchor", None):
            self.error(event.start_mark, f"不支持锚点“&{event.anchor}”和别名。提示："
                                         "每处都把内容完整写出；如果想写原文脱敏的数值，请写带引号的 '*'")
            raise _Abort

    def _child_path(self) -> Path_ | None:
        """Path of the node about to be added, or None if it is a mapping key."""
        if not self.stack:
            return ()
        container, path, pending, _, _ = self.stack[-1]
        if isinstance(container, list):
            return (*path, len(container))
        return None if pending is _NO_KEY else (*path, pending)

    def _add(self, value: Any, mark: Any) -> None:
        if not self.stack:
            self.root = value
            self.positions[()] = Pos(mark.line + 1, mark.column + 1)
            return
        frame = self.stack[-1]
        container, path, pending, key_pos, seen = frame
        if isinstance(container, list):
            self.positions[(*path, len(container))] = Pos(mark.line + 1, mark.column + 1)
            container.append(value)
            return
        if pending is _NO_KEY:  # this node is a key
            if not isinstance(value, str):
                self.error(mark, "字段名必须是简单的文字。提示：检查缩进，或把这一项写成“字段名: 值”")
                raise _Abort
            frame[3] = Pos(mark.line + 1, mark.column + 1)
            if value in seen:
                first = seen[value]
                self.error(mark, f"字段“{value}”重复出现（第一次在第 {first.line} 行）。"
                                 "提示：删去或合并其中一处；YAML 中同一层的字段名不能重复",
                           field=_dotted((*path, value)))
                frame[2] = _DUPLICATE
            else:
                seen[value] = frame[3]
                frame[2] = value
            return
        if pending is not _DUPLICATE:
            loc = (*path, pending)
            container[pending] = value
            self.positions[loc] = Pos(mark.line + 1, mark.column + 1)
            self.key_positions[loc] = key_pos
        frame[2] = _NO_KEY

    def feed(self, event: Any) -> None:
        if isinstance(event, (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentEndEvent)):
            return
        if isinstance(event, yaml.DocumentStartEvent):
            if event.version or event.tags:
                self.error(event.start_mark, "不支持 %YAML/%TAG 指令。提示：删去以 % 开头的行")
                raise _Abort
            if self.root is not None or self.positions:
                self.error(event.start_mark, "一个文件只能有一个文档。提示：删去“---”分隔符，"
                                             "或把第二部分另存为一个文件")
                raise _Abort
            return
        if isinstance(event, yaml.AliasEvent):
            self.error(event.start_mark, f"不支持别名“*{event.anchor}”。提示：原文脱敏的数值写成带引号的 '*'，"
                                         "以 * 开头的文字也要加引号，如 '*区'")
            raise _Abort
        self.nodes += 1
        if self.nodes > MAX_NODES:
            self.error(event.start_mark, f"文件中的条目超过 {MAX_NODES} 个。提示：拆分文件")
            raise _Abort
        if isinstance(event, yaml.ScalarEvent):
            self._refuse_anchor(event)
            if event.tag and event.tag != "!":
                self.error(event.start_mark, f"不支持类型标签“{event.tag}”。提示：删去以 ! 开头的标签，"
                                             "直接写值；需要文字时加引号")
            if event.style == '"' and (hidden := _ESCAPED.search(event.value)):
                # An escape such as "\u202e" or "\x1b" in double quotes makes the character the line
                # scan cannot see in the file's text: refused in the value alike.
                code = f"\\u{ord(hidden.group()):04x}" if ord(hidden.group()) <= 0xFFFF else f"\\U{ord(hidden.group()):08x}"
                where = self._child_path()
                self.error(event.start_mark, f"引号中的转义写出了不可见字符（{hidden_name(hidden.group())}，{code}）。"
                                             "提示：删去这个转义；换行直接写在 | 块中",
                           field=_dotted(where) if where else "")
            plain = event.style is None or event.style == ""
            value = None if plain and event.value in _NULLS else event.value
            if value is not None and event.style != "|":  # a literal block keeps the editor's own layout
                value = join_cjk(value)
            self._add(value, event.start_mark)
            return
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            self._refuse_anchor(event)
            if event.tag:
                self.error(event.start_mark, f"不支持类型标签“{event.tag}”。提示：删去以 ! 开头的标签")
            if len(self.stack) >= MAX_DEPTH:
                self.error(event.start_mark, f"嵌套超过 {MAX_DEPTH} 层。提示：案例文件只需浅层结构，请检查缩进")
                raise _Abort
            path = self._child_path()
            if path is None:
                self.error(event.start_mark, "字段名必须是简单的文字。提示：检查缩进，或把这一项写成“字段名: 值”")
                raise _Abort
            container: Any = [] if isinstance(event, yaml.SequenceStartEvent) else {}
            self._add(container, event.start_mark)
            self.stack.append([container, path, _NO_KEY, None, {}])
            return
        if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            self.stack.pop()


_NO_KEY = object()
_DUPLICATE = object()


def _dotted(loc: Path_) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


dotted = _dotted


def load_text(text: str, display: str, path: Path | None = None) -> tuple[LoadedFile, list[CaseError]]:
    loaded = LoadedFile(path or Path(display), display)
    errors = _hidden_characters(text, display) + _lint_lines(text, display)
    if errors:
        # These would make the parser stop at the first one, count lines differently from the
        # editor, or read a wrong shape.
        return loaded, sorted(errors, key=lambda e: (e.line, e.column))
    builder = _Builder(display)
    try:
        for event in yaml.parse(text, Loader=_Parser):
            builder.feed(event)
    except _Abort:
        return loaded, builder.errors
    except yaml.MarkedYAMLError as exc:
        return loaded, [*builder.errors, _syntax_error(exc, text, display)]
    except yaml.YAMLError as exc:  # the reader: a character YAML refuses that the check above let through
        offset = min(max(int(getattr(exc, "position", 0) or 0), 0), len(text))
        line, column = _Lines(text).at(offset)
        ch = text[offset] if offset < len(text) else ""
        code = f"（U+{ord(ch):04X}）" if ch else ""
        return loaded, [*builder.errors, CaseError(display, line, column, "",
                                                   f"这里有 YAML 不接受的字符{code}。提示：删除这个不可见字符")]
    if builder.root is None and not builder.positions:
        return loaded, [*builder.errors, CaseError(display, 1, 1, "", "文件是空的。提示：参照同类文件填写内容，或删去这个文件")]
    if not isinstance(builder.root, dict):
        return loaded, [*builder.errors, CaseError(display, 1, 1, "", "文件顶层应是“字段名: 值”的映射。"
                                                   "提示：参照同类文件的写法，每行以字段名开头")]
    loaded.data = builder.root
    loaded.positions = builder.positions
    loaded.key_positions = builder.key_positions
    return loaded, builder.errors


def _syntax_error(exc: yaml.MarkedYAMLError, text: str, display: str) -> CaseError:
    """One YAML syntax error, in Chinese, where the editor has to change something."""
    context = exc.context or ""
    problem_mark = exc.problem_mark or exc.context_mark
    if problem_mark is not None and (
            quote := _quote_error(text, problem_mark.line, problem_mark.column, display)):
        return quote
    # For a stray * or &, the context mark is the character itself (the problem mark is after it);
    # for a key without ":", it is the key's line (the problem mark is the next line); for an
    # unclosed bracket, the bracket (the problem mark is wherever YAML gave up).
    at_context = any(word in context for word in ("alias", "anchor", "simple key", "flow sequence", "flow mapping"))
    mark = (exc.context_mark if at_context else None) or problem_mark
    message, hint = _explain(exc)
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return CaseError(display, line, col, "", f"{message}。提示：{hint}")


def load_file(path: Path, display: str | None = None, cache: Store | None = None) -> tuple[LoadedFile, list[CaseError]]:
    """Read and parse one case file; never raises for bad content, returns its errors instead.

    With ``cache`` (a directory kept between runs), a file parsed before with the same bytes is
    read back from JSON (never pickle: a cache must not be able to run code) instead of parsed."""
    display = display or str(path)
    try:
        display.encode("utf-8")
    except UnicodeEncodeError:  # a file name that is not UTF-8 (Python keeps its bytes as surrogates)
        loaded, errors = _read(path, display, None)  # the cache keys and stores UTF-8 text only
        return loaded, [CaseError(display, 1, 1, "", "文件名含有无法识别的字符（不是 UTF-8 编码）。"
                                                     "提示：把文件改名为英文小写短标识，如 tea-valley.yaml"), *errors]
    loaded, errors = _read(path, display, cache)
    if not path.name.endswith(".yaml"):
        # Discovery reads .yml and any case of .YAML rather than skip them silently; the one
        # spelling keeps file names, ids, the editor's schema mapping and `casebook new` in step.
        ext = path.suffix or path.name
        errors = [CaseError(display, 1, 1, "", f"文件扩展名应为 .yaml（现在是“{ext}”）。"
                                               f"提示：把文件改名为 {path.name[:-len(ext)]}.yaml"), *errors]
    return loaded, errors


def _read(path: Path, display: str, cache: Store | None) -> tuple[LoadedFile, list[CaseError]]:
    if cache is not None:
        raw = path.read_bytes() if path.stat().st_size <= MAX_BYTES else None
        if raw is not None:
            key = content_hash(raw, display, code_digest())
            hit = _cache_read(cache.get_text("file", key), path, display)
            if hit is None:
                hit = _read(path, display, None)
                cache.put("file", key, _cache_body(*hit))
            hit[0].digest = key
            return hit
    size = path.stat().st_size
    if size > MAX_BYTES:
        return LoadedFile(path, display), [CaseError(
            display, 1, 1, "", f"文件过大（{size // 1024} KB，上限 {MAX_BYTES // 1024} KB）。"
                               "提示：案例文件应简短，请拆分内容或删去多余部分")]
    with path.open("rb") as fh:
        raw = fh.read(MAX_BYTES + 1)
    text, errors = _decode(raw, display)
    if text is None:
        return LoadedFile(path, display), errors
    return load_text(text, display, path)


_CACHE_FORMAT = "casebook-file-2"


def _cache_body(loaded: LoadedFile, errors: list[CaseError]) -> str:
    """Four lines (JSON text never holds a raw line break): the format, the errors, read on every
    build; the data, read only when the file's model is not cached (validate); the positions, read
    only when a message needs one."""
    errors_json = [[e.file, e.line, e.column, e.field, e.message, e.label] for e in errors]
    tail = {
        "positions": [[list(loc), p.line, p.column] for loc, p in loaded.positions.items()],
        "keys": [[list(loc), p.line, p.column] for loc, p in loaded.key_positions.items()],
    }
    return "\n".join([_CACHE_FORMAT, json.dumps(errors_json, ensure_ascii=False),
                      json.dumps(loaded.data, ensure_ascii=False), json.dumps(tail, ensure_ascii=False)])


def _cache_read(text: str | None, path: Path, display: str) -> tuple[LoadedFile, list[CaseError]] | None:
    if text is None:
        return None
    parts = text.split("\n")
    if len(parts) != 4 or parts[0] != _CACHE_FORMAT:
        return None  # written by another version, or damaged: parsed again
    try:
        errors = [CaseError(*e) for e in json.loads(parts[1])]
    except (ValueError, TypeError):
        return None
    return LoadedFile(path, display, packed=parts[3], packed_data=parts[2]), errors
