"""Hostile case text stays text (issue 10).

Every character an editor does not show is reported in Chinese at the line and column the editor
shows; an unclosed quote is reported where it opens; no YAML file is skipped for the spelling of its
extension; and nothing the command line prints (check in every format, build, new, diff) can drive
a terminal, start a CI workflow command, or put markup, links or mentions into a pull-request
comment. Inputs are generated as classes: every character of the class, several payloads, every
output format. All test data is 虚构 (fictional).
"""

from __future__ import annotations

import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import cmarkgfm
import pytest

from casebook.cli import main
from casebook.diff import Diff, FactChange, FigureChange, to_markdown
from casebook.errors import printable, shown
from casebook.loader import MAX_HIDDEN_REPORTED, load_text

from helpers import CLUSTER, line_of, replace

ROOT = Path(__file__).resolve().parents[1]
FICTIONAL = Path(__file__).parent / "fixtures" / "fictional"
FIXTURE = (FICTIONAL / CLUSTER).read_text(encoding="utf-8")
_BIDI = {"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"}


def _hidden_class() -> list[str]:
    """Derived from the Unicode database, not from the code under test: controls (Cc) other than
    tab and LF (CR is a line break only before LF), line and paragraph separators, bidi embedding,
    override and isolate controls, the direction marks, BOM, interlinear annotation characters,
    the two BMP non-characters, and (a sample of) the invisible tag characters."""
    chars = [chr(c) for c in range(0x10000)
             if (unicodedata.category(chr(c)) in ("Cc", "Zl", "Zp") and chr(c) not in "\t\n\r")
             or unicodedata.bidirectional(chr(c)) in _BIDI]
    return [*chars, "\u061c", "\u200e", "\u200f", "\ufeff", "\ufff9", "\ufffa", "\ufffb", "\ufffe", "\uffff",
            "\U000e0001", "\U000e0041", "\U000e007f"]


HIDDEN = _hidden_class()
SUSPECT = [*HIDDEN, "\r"]  # a CR not followed by LF: a line break to some editors, not to others


def _code(ch: str) -> str:
    return f"U+{ord(ch):04X}"


# PyYAML's and libyaml's vocabulary: none of it may reach an editor.
_PARSER_WORDS = re.compile(r"\b(found|expected|while|scanning|parsing|character|mapping|could|allowed|token|"
                           r"stream|scalar|indicator|unicode|string|special|unacceptable|context|document)\b", re.I)


def _no_english(message: str) -> None:
    assert not _PARSER_WORDS.search(message), message
    assert re.search(r"[\u4e00-\u9fff]", message) and "提示：" in message, message


def test_the_class_is_the_whole_class():
    assert len(HIDDEN) > 80
    assert {"\x1b", "\x0b", "\x0c", "\x00", "\x7f", "\x85", "\x9b", "\u2028", "\u2029", "\u202e", "\u2067"} <= set(HIDDEN)


# --------------------------------------------------------------------------- invisible characters


PLACES = {
    # where the character goes → (the fixture's line 4 rewritten, expected line, expected column)
    "value": (lambda ch: f"theme: 虚{ch}构甲组团", 4, 9),
    "line start": (lambda ch: f"{ch}theme: 虚构甲组团", 4, 1),
    "comment": (lambda ch: f"theme: 虚构甲组团  # 虚构注释{ch}结束", 4, 21),
}


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("ch", SUSPECT, ids=_code)
def test_each_invisible_character_reported_where_the_editor_shows_it(ch, place):
    rewrite, line, column = PLACES[place]
    lines = FIXTURE.split("\n")
    assert lines[3] == "theme: 虚构甲组团"
    lines[3] = rewrite(ch)
    _, errors = load_text("\n".join(lines), "clusters/fictional-a.yaml")
    assert [(e.line, e.column) for e in errors] == [(line, column)], errors
    message = errors[0].message
    _no_english(message)
    assert "删除这个不可见字符" in message
    assert _code(ch) in message


def _escape(ch: str) -> str:
    return f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}"


@pytest.mark.parametrize("ch", [c for c in HIDDEN if not 0xD800 <= ord(c) <= 0xDFFF], ids=_code)
def test_an_invisible_character_written_as_an_escape_is_refused_too(ch):
    lines = FIXTURE.split("\n")
    lines[3] = f'theme: "虚{_escape(ch)}构甲组团"'
    _, errors = load_text("\n".join(lines), "clusters/fictional-a.yaml")
    assert [(e.line, e.column, e.field) for e in errors] == [(4, 8, "theme")], errors
    _no_english(errors[0].message)
    assert "转义" in errors[0].message


def test_every_invisible_character_at_once_through_check(check, book):
    """One file with every character of the class, each on its own line after separators and lone
    CRs that YAML would count differently: every one reported, at the editor's line and column."""
    body, expected, line = ["id: fictional-a\n"], [], 2
    for i, ch in enumerate(SUSPECT):
        prefix = f"k{i}: 虚构"
        body.append(f"{prefix}{ch}文字\n")
        expected.append((line, len(prefix) + 1))
        line += 2 if ch == "\r" else 1  # a lone CR starts a new line in the editor
    (book / CLUSTER).write_bytes("".join(body).encode("utf-8"))
    rc, payload = check.json(book)
    assert rc == 1
    mine = [e for e in payload["errors"] if e["file"].endswith(CLUSTER)]
    assert [(e["line"], e["column"]) for e in mine] == expected
    for e in mine:
        _no_english(e["message"])


def test_crlf_files_are_fine_and_keep_their_lines(check, book):
    text = (book / CLUSTER).read_text(encoding="utf-8")
    (book / CLUSTER).write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    assert check.json(book)[0] == 0
    (book / CLUSTER).write_bytes(text.replace("value: 52", "value: 五十二").replace("\n", "\r\n").encode("utf-8"))
    rc, payload = check.json(book)
    assert rc == 1 and payload["errors"][0]["line"] == line_of(book, CLUSTER, "value: 五十二") == 23


def test_a_flood_of_invisible_characters_is_counted_not_listed():
    _, errors = load_text("id: x\nname: " + "\x1b" * 1000 + "\n", "x.yaml")
    assert len(errors) == MAX_HIDDEN_REPORTED + 1
    assert all(e.line == 2 for e in errors)
    assert f"还有 {1000 - MAX_HIDDEN_REPORTED} 个" in errors[-1].message
    _no_english(errors[-1].message)


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_encoding_error_line_counted_as_the_editor_does(check, book, newline):
    lines = [b"id: fictional-a", b"name: \xe8\x99\x9a\xe6\x9e\x84", b"theme: \xff\xfe bad", b"x: 1"]
    (book / CLUSTER).write_bytes(newline.join(lines) + newline)
    rc, payload = check.json(book)
    errors = [e for e in payload["errors"] if e["file"].endswith(CLUSTER)]
    assert rc == 1 and [(e["line"], e["column"]) for e in errors] == [(3, 8)]
    _no_english(errors[0]["message"])


# --------------------------------------------------------------------------- quotes and syntax

QUOTES = [
    # (fixture text, with the quote left open, the column of the quote); the next quote comes later
    # in the file (YAML fails there, many lines on) or never (YAML fails at the end of the file).
    ("name: 虚构甲组团", "name: '虚构甲组团", 7),
    ("name: 虚构甲组团", 'name: "虚构甲组团', 7),
    ("theme: 虚构甲组团", "'theme: 虚构甲组团", 1),
    ("  town: '*镇'", "  town: '*镇", 9),
    ("  - 虚构茶叶", "  - '虚构茶叶", 5),
    ("  - 虚构茶叶", '  - "虚构茶叶', 5),
    ("    quote: 2022年村集体经营性收入52万元", "    quote: '2022年村集体经营性收入52万元", 12),
    ("    description: 虚构的测试机制。", '    description: "虚构的测试机制。', 18),
    ("source: fictional/clusters", "source: 'fictional/clusters", 9),
]


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["LF", "CRLF"])
@pytest.mark.parametrize("old, new, column", QUOTES, ids=[q[1] for q in QUOTES])
def test_unclosed_quote_reported_where_it_opens(check, book, old, new, column, newline):
    text = (book / CLUSTER).read_text(encoding="utf-8").replace(old, new, 1)
    (book / CLUSTER).write_bytes(text.replace("\n", newline).encode("utf-8"))
    rc, payload = check.json(book)
    assert rc == 1
    err = next(e for e in payload["errors"] if e["file"].endswith(CLUSTER))
    assert (err["line"], err["column"]) == (line_of(book, CLUSTER, new), column), err
    assert "没有闭合" in err["message"]
    _no_english(err["message"])


@pytest.mark.parametrize("new, column", [("theme: '虚构'甲组团'", 11), ('theme: "虚构"甲组团"', 11),
                                         ("theme: '虚构' 甲组团'", 11)])
def test_quote_closed_early_is_named(check, book, new, column):
    replace(book, CLUSTER, "theme: 虚构甲组团", new)
    rc, payload = check.json(book)
    err = payload["errors"][0]
    assert rc == 1 and (err["line"], err["column"]) == (4, column)
    assert "提前结束" in err["message"]
    _no_english(err["message"])


SYNTAX = [
    ("theme: 虚构甲组团", "theme 虚构甲组团", 1),
    ("theme: 虚构甲组团", "theme: 虚构: 甲组团", 10),
    ("theme: 虚构甲组团", "theme: @虚构甲组团", 8),
    ("theme: 虚构甲组团", "theme: `虚构甲组团", 8),
    ("theme: 虚构甲组团", "theme: [虚构甲组团", 8),
    ("theme: 虚构甲组团", "theme: {虚构: 甲组团", 8),
    ("theme: 虚构甲组团", "theme: |x 虚构甲组团", 9),
    ("theme: 虚构甲组团", 'theme: "虚构\\q甲组团"', 11),
    ("  town: '*镇'", " town: '*镇'", 2),
    ("value: '*'", "value: *", 12),
]


@pytest.mark.parametrize("old, new, column", SYNTAX, ids=[s[1] for s in SYNTAX])
def test_syntax_errors_are_chinese_and_on_the_line(check, book, old, new, column):
    replace(book, CLUSTER, old, new)
    rc, payload = check.json(book)
    assert rc == 1 and len(payload["errors"]) == 1, payload["errors"]
    err = payload["errors"][0]
    assert (err["line"], err["column"]) == (line_of(book, CLUSTER, new), column), err
    _no_english(err["message"])


# --------------------------------------------------------------------------- extensions


@pytest.mark.parametrize("suffix", [".yml", ".YAML", ".Yml", ".yaML", ".YML"])
@pytest.mark.parametrize("rel", [CLUSTER, "lessons/fictional-lesson.yaml"])
def test_other_extension_spellings_are_reported_not_skipped(check, book, rel, suffix):
    path = book / rel
    renamed = path.with_name(path.stem + suffix)
    path.rename(renamed)
    rc, payload = check.json(book)
    assert rc == 1
    # The file is read (its cluster or lesson still counts, nothing else fails): only its name is wrong.
    assert payload["counts"]["clusters"] == 1 and payload["counts"]["lessons"] == 1
    assert len(payload["errors"]) == 1, payload["errors"]
    err = payload["errors"][0]
    assert err["file"].endswith(renamed.name)
    assert f"文件扩展名应为 .yaml（现在是“{suffix}”）" in err["message"]
    assert f"提示：把文件改名为 {path.name}" in err["message"]


@pytest.mark.parametrize("name", ["indicators.yml", "sources.YAML"])
def test_singleton_with_other_extension_is_reported(check, book, name):
    stem = name.split(".")[0]
    (book / f"{stem}.yaml").rename(book / name)
    rc, payload = check.json(book)
    assert rc == 1
    assert any(e["file"].endswith(name) for e in payload["errors"]), payload["errors"]


# --------------------------------------------------------------------------- printed output

PAYLOADS = [
    "虚构\n::warning::注入的警告",
    "虚构\r\n::error file=x.yaml,line=1::注入",
    "\n::add-mask::虚构",
    "\n  ::stop-commands::虚构令牌",
    "::warning::虚构开头",
    "\u2028::warning::虚构",
    "\x85::warning::虚构",
    "虚构\x1b]8;;http://example.invalid/\x07链接\x1b]8;;\x07",
    "虚构\x1b[2J\x1b[31m红字",
    "虚构\x9b2J\x90q",
    "虚构##[error]旧式命令",
    "虚构\u202e反转\u2066",
    "虚构{0}{name}%s%(x)s%%",
]
FORMATS = ["text", "json", "github", "gitlab"]


def _yaml_string(text: str) -> str:
    """A double-quoted YAML scalar: escapes only, so the file itself holds no hidden character."""
    return json.dumps(text, ensure_ascii=True)


def _assert_safe_output(out: str, *, commands: bool = False) -> None:
    """What a terminal or a CI runner would obey is absent."""
    assert not set(out) & set(SUSPECT), [c for c in out if c in SUSPECT]
    assert "##[" not in out
    for line in out.split("\n"):
        if commands and line.startswith("::error "):
            # Ours: properties fully escaped (no raw : or , inside them), then the message.
            assert re.fullmatch(r"::error file=[^:,]*,line=\d+,col=\d+,title=[^:,]*::.*", line), line
            continue
        assert not line.lstrip().startswith("::"), line


def _json_unescape(line: str) -> str:
    return json.loads('"' + line + '"')


def _check_output(capsys, cases: Path, fmt: str) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main(["check", "--cases", str(cases), "--format", fmt])
    out, err = capsys.readouterr()
    return rc, out, err


def _with_hostile_key(book: Path, payload: str) -> None:
    # Twice: the loader reports the duplicate, the validator the unknown field; both name it.
    key = _yaml_string(payload)
    text = (book / CLUSTER).read_text(encoding="utf-8")
    (book / CLUSTER).write_text(text + f"{key}: 1\n{key}: 2\n", encoding="utf-8")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("payload", PAYLOADS, ids=range(len(PAYLOADS)))
def test_check_output_shows_hostile_text_without_obeying_it(capsys, book, payload, fmt):
    _with_hostile_key(book, payload)
    rc, out, _ = _check_output(capsys, book, "json")
    data = json.loads(out)
    assert rc == 1
    messages = [e["message"] for e in data["errors"]]
    assert any(payload in m for m in messages), messages  # JSON keeps the exact text

    rc, out, err = _check_output(capsys, book, fmt)
    assert rc == 1
    _assert_safe_output(out, commands=fmt == "github")
    _assert_safe_output(err)
    if fmt == "json":
        assert json.loads(out)["errors"] == data["errors"]
    elif fmt == "gitlab":
        issues = json.loads(out)
        assert len(issues) == len(messages)
        assert all(i["description"].endswith(m) for i, m in zip(issues, messages, strict=True))
    else:
        lines = out.strip("\n").split("\n")
        assert len(lines) == len(data["errors"])  # one error, one line, whatever the text holds
        if fmt == "github":
            lines = [line.split("::", 2)[2].replace("%25", "%") for line in lines]
        # Shown, not lost: the escapes read back to exactly what the file holds.
        assert any(payload in _json_unescape(line) for line in lines), lines


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_figure_value_output_is_safe(capsys, book, fmt):
    replace(book, CLUSTER, "value: 52", "value: " + _yaml_string("".join(PAYLOADS)))
    rc, out, err = _check_output(capsys, book, fmt)
    assert rc == 1
    _assert_safe_output(out, commands=fmt == "github")
    _assert_safe_output(err)


def test_file_names_are_shown_safely(capsys, book):
    (book / "clusters" / "\x1b[2J\n::warning::虚构.yaml").write_text("id: x\n", encoding="utf-8")
    for fmt in FORMATS:
        rc, out, err = _check_output(capsys, book, fmt)
        assert rc == 1
        _assert_safe_output(out, commands=fmt == "github")
        _assert_safe_output(err)


@pytest.mark.parametrize("ch", SUSPECT, ids=_code)
def test_shown_is_one_line_and_reads_back(ch):
    text = f"虚构{ch}文字\n::warning::x##[y]"
    out = shown(text)
    assert "\n" not in out and not set(out) & set(SUSPECT)
    assert _json_unescape(out) == text


def test_printable_keeps_json_valid_and_equal():
    value = {"k": "".join(SUSPECT) + "\n::warning::x\t##[y]", "\u2028": ["\x85"]}
    out = printable(json.dumps(value, ensure_ascii=False, indent=2))
    _assert_safe_output(out)
    assert json.loads(out) == value


def test_printable_breaks_every_line_start():
    out = printable("甲\n::warning::x\n  ::error::y\n\t::add-mask::z")
    _assert_safe_output(out)
    assert printable("::error file=a::b", commands=True) == "::error file=a::b"
    assert printable("  ::error::b", commands=True) != "  ::error::b"


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "casebook", *args], cwd=cwd, capture_output=True, timeout=300)


def _assert_safe_bytes(raw: bytes, *, commands: bool = False) -> None:
    assert not [b for b in raw if b < 0x20 and b not in b"\n\t"], raw[:400]
    _assert_safe_output(raw.decode("utf-8"), commands=commands)


def test_build_and_check_subprocesses_print_nothing_a_terminal_or_runner_obeys(tmp_path):
    """The real commands on a copy of the real casebook with every payload in it."""
    from sitebuild import make_project

    project = make_project(tmp_path, ROOT / "cases")
    cluster = sorted((project / "cases" / "clusters").glob("*.yaml"))[0]
    keys = "".join(f"{_yaml_string(p)}: 1\n" for p in PAYLOADS)
    cluster.write_text(cluster.read_text(encoding="utf-8") + keys, encoding="utf-8")

    built = _run(["build", "--cases", str(project / "cases"), "--site-dir", str(tmp_path / "site")], project)
    assert built.returncode == 1, built.stderr.decode()
    assert "构建失败" in built.stderr.decode("utf-8")
    _assert_safe_bytes(built.stdout)
    _assert_safe_bytes(built.stderr)
    for fmt in FORMATS:
        checked = _run(["check", "--cases", str(project / "cases"), "--format", fmt], project)
        assert checked.returncode == 1
        _assert_safe_bytes(checked.stdout, commands=fmt == "github")
        _assert_safe_bytes(checked.stderr)


def test_new_with_hostile_id_prints_safely(tmp_path):
    shutil.copytree(FICTIONAL, tmp_path / "cases")
    for payload in PAYLOADS:
        proc = _run(["new", payload], tmp_path)
        assert proc.returncode == 2
        assert "不合规" in proc.stderr.decode("utf-8")
        _assert_safe_bytes(proc.stdout)
        _assert_safe_bytes(proc.stderr)


# --------------------------------------------------------------------------- the diff comment

MARKDOWN_PAYLOADS = [
    "![](http://x.example/track.png)",
    "<img src=http://x.example/p.png>",
    "@octocat 虚构",
    "[虚构](javascript:alert(1))",
    "<!-- 虚构隐藏 -->",
    "```虚构代码```",
    "| 虚构 | 表格 |",
    "# 虚构标题",
    "http://x.example/a www.x.example 虚构@x.example",
    "<script>alert(1)</script>",
    "**虚构** _斜_ ~~删~~ $x$",
    "#1 GH-2 owner/repo#3 虚构",
    "&lt;b&gt; &copy; 虚构",
    "\\*虚构反斜杠",
    "<details><summary>虚构</summary>",
]
ALLOWED_TAGS = {"h2", "h3", "p", "table", "thead", "tbody", "tr", "th", "td", "ul", "li", "sub"}


class _Html(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.rows: list[int] = []
        self.text: list[str] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "tr":
            self.rows.append(0)
        elif tag in ("td", "th"):
            self.rows[-1] += 1

    def handle_data(self, data):
        self.text.append(data)

    def handle_comment(self, data):
        self.comments.append(data)


def _render(markdown: str) -> _Html:
    """As GitHub renders a comment: cmark-gfm with its table, autolink and strikethrough extensions."""
    page = _Html()
    page.feed(cmarkgfm.github_flavored_markdown_to_html(markdown, options=cmarkgfm.Options.CMARK_OPT_UNSAFE))
    return page


def _assert_inert(markdown: str, payloads: list[str]) -> None:
    page = _render(markdown)
    assert set(page.tags) <= ALLOWED_TAGS, set(page.tags) - ALLOWED_TAGS
    assert not page.comments
    assert len(set(page.rows)) <= 1  # every table row keeps its seven cells
    text = "".join(page.text)
    # What GitHub links after rendering: mentions, issue references, bare URLs, www., e-mail.
    assert not re.search(r"@\w|#\d|GH-\d|://|www\.", text, re.I), re.findall(r".{10}(?:@\w|#\d|GH-\d|://|www\.).{10}", text)
    visible = text.replace("\u200b", "")
    for payload in payloads:
        assert payload in visible, payload  # shown as itself, on one line


def _write_markdown_payloads(root: Path) -> None:
    cluster = root / "cases" / CLUSTER
    text = cluster.read_text(encoding="utf-8")
    items = "".join(f"\n  - {_yaml_string(p)}" for p in MARKDOWN_PAYLOADS)
    text = text.replace("industries:\n  - 虚构茶叶", "industries:\n  - 虚构茶叶" + items)
    cluster.write_text(text, encoding="utf-8")
    source = root / "cases" / "sources" / "fictional.txt"
    source.write_text(source.read_text(encoding="utf-8") + "\n".join(MARKDOWN_PAYLOADS) + "\n", encoding="utf-8")


def test_diff_comment_shows_case_text_inert(tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(FICTIONAL, root / "cases")
    shutil.copytree(ROOT / "schema", root / "schema")

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=虚构编辑", "-c", "user.email=editor@example.org", *args], cwd=root,
                       check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("add", "-A")
    git("commit", "-q", "-m", "虚构初始")
    _write_markdown_payloads(root)
    checked = _run(["check"], root)
    assert checked.returncode == 0, checked.stdout.decode() + checked.stderr.decode()
    proc = _run(["diff", "HEAD"], root)
    assert proc.returncode == 0, proc.stderr.decode()
    _assert_safe_bytes(proc.stdout)
    markdown = proc.stdout.decode("utf-8")
    facts = json.loads(_run(["diff", "HEAD", "--format", "json"], root).stdout)["facts"]
    assert len(facts) == len(MARKDOWN_PAYLOADS)
    assert markdown.count("\n- ") == len(facts)  # each change on its own line, none split
    _assert_inert(markdown, MARKDOWN_PAYLOADS)


def test_every_case_text_field_of_the_diff_is_inert():
    """Every value to_markdown prints, each holding every payload, control characters included."""
    hostile = " ".join(MARKDOWN_PAYLOADS) + " 虚构\n::warning::x \x1b[2J\u202e\u2028 ##[error]"
    diff = Diff(hostile, hostile,
                figures=[FigureChange("a", hostile, "i", hostile, hostile, hostile, change, hostile, hostile)
                         for change in ("changed", "added", "removed", "desensitised", "disclosed")],
                facts=[FactChange(hostile, "a", hostile, hostile, change, hostile, hostile)
                       for change in ("added", "removed", "changed")])
    markdown = to_markdown(diff)
    _assert_safe_output(markdown)
    lines = markdown.split("\n")
    assert sum(line.startswith("|") for line in lines) == 2 + 5  # header, rule and five rows
    assert sum(line.startswith("- ") for line in lines) == 3
    assert _render(markdown).rows == [7] * 6
    _assert_inert(markdown, MARKDOWN_PAYLOADS)
    visible = "".join(_render(markdown).text)
    assert "\\u001b[2J" in visible and "\\u202e" in visible and "\\u2028" in visible


def test_completeness_table_shows_hostile_indicator_names_on_their_line(capsys, book):
    # Invisible characters are refused by check even as escapes; a line break and a workflow command are not.
    hostile = "村集体经营性收入（虚构测试）\n::warning::虚构 ##[error]尾"
    replace(book, "indicators.yaml", "name: 村集体经营性收入（虚构测试）", "name: " + _yaml_string(hostile))
    capsys.readouterr()
    rc = main(["check", "--cases", str(book), "--completeness"])
    out, err = capsys.readouterr()
    assert rc == 0, out + err
    _assert_safe_output(out)
    rows = [line for line in out.split("\n") if "\t" in line]
    assert len(rows) == 1 + 2  # the header and one row per indicator, whatever the names hold
    assert any(hostile in _json_unescape(row.split("\t")[0]) for row in rows)


def test_file_name_that_is_not_utf8_is_reported_not_a_crash(tmp_path):
    from sitebuild import make_project

    project = make_project(tmp_path, FICTIONAL)
    name = os.fsdecode(b"\xff\x1b[2J.yaml")  # undecodable bytes, kept by Python as surrogates
    (project / "cases" / "clusters" / name).write_text("id: x\n", encoding="utf-8")
    for args in (["check"], ["build", "--site-dir", str(tmp_path / "site")]):
        proc = _run(args, project)
        assert proc.returncode == 1
        out = proc.stdout.decode("utf-8") + proc.stderr.decode("utf-8")
        assert "文件名含有无法识别的字符" in out and "Traceback" not in out and "codec" not in out
        _assert_safe_bytes(proc.stdout)
        _assert_safe_bytes(proc.stderr)
