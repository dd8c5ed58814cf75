"""`casebook diff`: what changed in the data between two revisions, for reviewers of a pull request.

Figures are compared by owner, indicator, year, period and scope, and each change is named the
way a reviewer thinks of it: a value changed, a figure added or removed, a figure that became
desensitised or was disclosed. Every other fact (partners, measures, slogans …) is compared field by
field. Output is Markdown for a pull-request comment, or JSON.

Case text in the Markdown is inert (see :func:`_inert`): a hostile pull request cannot put an image,
a link, a mention, HTML or table structure into the comment the CI posts under the bot's name.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .book import Casebook
from .errors import CasebookError, CaseError, shown
from .models import Observation
from .present import cluster_title, disclosure, figure_text, when_text
from .validate import load_casebook

WORKTREE = "工作区"
CHANGE_LABELS = {"changed": "数值改变", "added": "新增", "removed": "删除", "desensitised": "变为脱敏",
                 "disclosed": "新公开"}


class DiffError(CasebookError):
    """A Chinese message; ``code`` is the exit code (1: invalid data, 2: usage)."""

    def __init__(self, message: str, code: int = 2, errors: list[CaseError] | None = None) -> None:
        super().__init__(message)
        self.code = self.exit_code = code
        self.errors = errors or []


@dataclass
class FigureChange:
    owner_id: str
    owner: str
    indicator_id: str
    indicator: str
    when: str
    scope: str
    change: str
    old: str | None
    new: str | None


@dataclass
class FactChange:
    entity: str  # 组团 / 经验启示 / 党建联盟 / 指标 / 来源
    id: str
    name: str
    field: str
    change: str  # added / removed / changed
    old: str | None
    new: str | None


@dataclass
class Diff:
    old_rev: str
    new_rev: str
    figures: list[FigureChange] = field(default_factory=list)
    facts: list[FactChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.figures and not self.facts


# --------------------------------------------------------------------------- git


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise DiffError("找不到 git 命令。提示：先安装 git") from None


def repo_root(cwd: Path) -> Path:
    proc = _git(["rev-parse", "--show-toplevel"], cwd)
    if proc.returncode != 0:
        raise DiffError(f"“{cwd}”不在 git 仓库中，无法比较版本。提示：在案例库的 git 仓库目录里运行 casebook diff")
    return Path(proc.stdout.decode().strip())


def _verify(rev: str, root: Path) -> str:
    if rev.startswith("-"):
        raise DiffError(f"版本“{rev}”不合规。提示：写分支名、标签或提交号，如 main 或 HEAD~1")
    proc = _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], root)
    if proc.returncode != 0:
        raise DiffError(f"找不到版本“{rev}”。提示：写分支名、标签或提交号，如 main、origin/main 或 HEAD~1；"
                        "可用 git log --oneline 查看")
    return proc.stdout.decode().strip()


def load_revision(rev: str, root: Path, cases_rel: Path) -> Casebook:
    """The casebook as it was at ``rev``, read from git objects into a temporary directory."""
    commit = _verify(rev, root)
    listing = _git(["ls-tree", "-r", "-z", "--name-only", commit, "--", cases_rel.as_posix()], root)
    names = [n for n in listing.stdout.decode("utf-8").split("\0") if n]
    with tempfile.TemporaryDirectory(prefix="casebook-diff-") as tmp:
        for name in names:
            blob = _git(["show", f"{commit}:{name}"], root)
            if blob.returncode != 0:
                continue
            target = Path(tmp) / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob.stdout)
        book, errors = load_casebook(Path(tmp) / cases_rel)
        if errors:
            shown = [CaseError(f"{rev}:{_after(e.file, tmp)}", e.line, e.column, e.field, e.message, e.label)
                     for e in errors]
            raise DiffError(f"版本“{rev}”中的案例文件有错误，无法比较。提示：先修正下列问题，或换一个版本比较",
                            code=1, errors=shown)
    return book


def _after(path: str, tmp: str) -> str:
    resolved = str(Path(path).resolve())
    tmp_resolved = str(Path(tmp).resolve())
    return resolved[len(tmp_resolved) + 1:] if resolved.startswith(tmp_resolved) else path


# --------------------------------------------------------------------------- comparing


def _owners(book: Casebook) -> dict[str, tuple[str, list[Observation]]]:
    out = {cid: (cluster_title(c), c.observations) for cid, c in book.clusters.items()}
    if book.alliance:
        out["alliance"] = (book.alliance.name, book.alliance.observations)
    return out


def _keyed(observations: list[Observation]) -> dict[tuple[Any, ...], Observation]:
    seen: dict[tuple[Any, ...], int] = defaultdict(int)
    out = {}
    for obs in observations:
        base = (obs.indicator, str(obs.year), obs.period or "", obs.scope or "")
        out[(*base, seen[base])] = obs  # the n-th of identical keys ('*' years can repeat)
        seen[base] += 1
    return out


def _figure_changes(old: Casebook, new: Casebook) -> list[FigureChange]:
    changes = []
    old_owners, new_owners = _owners(old), _owners(new)
    for owner_id in sorted(set(old_owners) | set(new_owners)):
        name = (new_owners.get(owner_id) or old_owners[owner_id])[0]
        before = _keyed(old_owners.get(owner_id, ("", []))[1])
        after = _keyed(new_owners.get(owner_id, ("", []))[1])
        for key in list(before) + [k for k in after if k not in before]:
            a, b = before.get(key), after.get(key)
            obs = b or a
            assert obs is not None
            ind = new.indicators.get(obs.indicator) or old.indicators.get(obs.indicator)
            if a is not None and b is not None:
                if figure_text(a) == figure_text(b):
                    continue
                states = (disclosure(a), disclosure(b))
                change = {("disclosed", "desensitised"): "desensitised", ("desensitised", "disclosed"): "disclosed",
                          ("missing", "disclosed"): "disclosed"}.get(states, "changed")
            else:
                change = "added" if a is None else "removed"
            changes.append(FigureChange(
                owner_id, name, obs.indicator, ind.name if ind else obs.indicator, when_text(obs), obs.scope or "",
                change, figure_text(a) if a else None, figure_text(b) if b else None))
    return changes


def _identity(item: BaseModel) -> str:
    for attr in ("id", "name", "title", "text", "description", "event", "role"):
        value = getattr(item, attr, None)
        if isinstance(value, str):
            return value
    return json.dumps(item.model_dump(mode="json"), ensure_ascii=False, sort_keys=True)


def _short(value: Any) -> str:
    if isinstance(value, BaseModel):
        return _identity(value)
    if isinstance(value, list):
        return "、".join(_short(v) for v in value)
    text = "" if value is None else str(value)
    return text if len(text) <= 80 else text[:79] + "…"


def _fact_changes(entity: str, ident: str, name: str, old: BaseModel | None, new: BaseModel | None) -> list[FactChange]:
    if old is None or new is None:
        return [FactChange(entity, ident, name, "", "added" if old is None else "removed", None, None)]
    out = []
    for fname, info in type(new).model_fields.items():
        if fname == "observations":
            continue
        label = info.title or fname
        a, b = getattr(old, fname), getattr(new, fname)
        if isinstance(a, list) or isinstance(b, list):
            a, b = a or [], b or []
            before = {_identity(x) if isinstance(x, BaseModel) else str(x): x for x in a}
            after = {_identity(x) if isinstance(x, BaseModel) else str(x): x for x in b}
            for key in before.keys() - after.keys():
                out.append(FactChange(entity, ident, name, label, "removed", key, None))
            for key in after.keys() - before.keys():
                out.append(FactChange(entity, ident, name, label, "added", None, key))
            for key in before.keys() & after.keys():
                x, y = before[key], after[key]
                if isinstance(x, BaseModel) and x.model_dump(mode="json") != y.model_dump(mode="json"):
                    out.append(FactChange(entity, ident, name, f"{label} · {key}", "changed",
                                          _changed_part(x, y, old=True), _changed_part(x, y, old=False)))
        elif isinstance(a, BaseModel) or isinstance(b, BaseModel):
            if (a.model_dump(mode="json") if a else None) != (b.model_dump(mode="json") if b else None):
                out.append(FactChange(entity, ident, name, label, "changed",
                                      _changed_part(a, b, old=True), _changed_part(a, b, old=False)))
        elif a != b:
            out.append(FactChange(entity, ident, name, label, "changed", _short(a), _short(b)))
    return sorted(out, key=lambda c: (c.field, c.change, c.old or "", c.new or ""))


def _changed_part(a: BaseModel | None, b: BaseModel | None, old: bool) -> str | None:
    if a is None or b is None:
        target = a if old else b
        return _short(target) if target is not None else None
    da, db = a.model_dump(mode="json"), b.model_dump(mode="json")
    keys = [k for k in da if da.get(k) != db.get(k)]
    side = da if old else db
    return "；".join(f"{k}: {_short(side.get(k))}" for k in keys)


def diff_casebooks(old: Casebook, new: Casebook, old_rev: str, new_rev: str) -> Diff:
    result = Diff(old_rev, new_rev, figures=_figure_changes(old, new))
    pairs: list[tuple[str, dict[str, Any], dict[str, Any], Any]] = [
        ("组团", old.clusters, new.clusters, lambda c: cluster_title(c)),
        ("经验启示", old.lessons, new.lessons, lambda lesson: lesson.title),
        ("指标", old.indicators, new.indicators, lambda ind: ind.name),
        ("来源", old.sources, new.sources, lambda src: src.title),
    ]
    if old.alliance or new.alliance:
        pairs.append(("党建联盟", {"alliance": old.alliance} if old.alliance else {},
                      {"alliance": new.alliance} if new.alliance else {}, lambda a: a.name))
    for entity, before, after, title in pairs:
        for ident in sorted(set(before) | set(after)):
            a, b = before.get(ident), after.get(ident)
            result.facts.extend(_fact_changes(entity, ident, title(b or a), a, b))
    return result


def diff_revisions(cases: Path, old_rev: str, new_rev: str | None = None) -> Diff:
    """Compare the casebook at ``old_rev`` with ``new_rev`` (default: the working tree)."""
    cwd = cases if cases.is_dir() else Path.cwd()
    root = repo_root(cwd)
    try:
        cases_rel = cases.resolve().relative_to(root.resolve())
    except ValueError:
        raise DiffError(f"案例目录“{cases}”不在 git 仓库“{root}”之内。提示：用 --cases 指向仓库中的案例目录") from None
    old = load_revision(old_rev, root, cases_rel)
    if new_rev is None:
        if not cases.is_dir():
            raise DiffError(f"找不到案例目录“{cases}”。提示：用 --cases 指定")
        new, errors = load_casebook(cases)
        if errors:
            raise DiffError("工作区中的案例文件有错误，无法比较。提示：先运行 casebook check 并修正下列问题",
                            code=1, errors=errors)
    else:
        new = load_revision(new_rev, root, cases_rel)
    return diff_casebooks(old, new, old_rev, new_rev or WORKTREE)


# --------------------------------------------------------------------------- output


# What GitHub-flavoured Markdown gives meaning to inside a line: emphasis, code, links and images,
# HTML and entities, table cells, strikethrough, math. Backslash-escaped, each shows as itself.
_GFM_SPECIALS = frozenset("\\`*_[]()!<>&|~$")
# What GitHub turns into links after rendering, escapes or not: @mentions, #123 and GH-123
# references, bare URLs, www. and e-mail addresses. A zero-width space after the trigger breaks them.
_GFM_AUTOLINKS = re.compile(r"[@#]|:(?=//)|(?i:www)(?=\.)|(?i:gh)(?=-\d)")
_BREAK_LINK = "\u200b"


def _inert(text: str | None) -> str:
    """Case text (or a revision name) as inert GitHub Markdown on one line: shown exactly as text,
    never as markup, HTML, a link, an image, a mention or a new line or table cell."""
    if text is None or text == "":
        return "—"
    one_line = shown(re.sub(r"\r\n|\r|\n", " ", str(text)))
    unlinked = _GFM_AUTOLINKS.sub(lambda m: m.group() + _BREAK_LINK, one_line)
    return "".join("\\" + ch if ch in _GFM_SPECIALS else ch for ch in unlinked)


def to_markdown(diff: Diff) -> str:
    lines = [f"## 案例数据变更（{_inert(diff.old_rev)} → {_inert(diff.new_rev)}）", ""]
    if diff.empty:
        lines.append("案例数据没有变化。")
        return "\n".join(lines) + "\n"
    counts: defaultdict[str, int] = defaultdict(int)
    for f in diff.figures:
        counts[f.change] += 1
    if diff.figures:
        summary = "，".join(f"{CHANGE_LABELS[k]} {v} 项" for k, v in counts.items())
        lines += [f"### 数据（{summary}）", "",
                  "| 组团 | 指标 | 年份 / 时期 | 范围 | 原值 | 新值 | 变化 |", "|---|---|---|---|---|---|---|"]
        for f in diff.figures:
            lines.append(f"| {_inert(f.owner)} | {_inert(f.indicator)} | {_inert(f.when)} | {_inert(f.scope or '全部')} "
                         f"| {_inert(f.old)} | {_inert(f.new)} | {CHANGE_LABELS[f.change]} |")
        lines.append("")
    if diff.facts:
        lines += [f"### 其他内容（{len(diff.facts)} 处）", ""]
        for c in diff.facts:
            where = f"{_inert(c.entity)}“{_inert(c.name)}”" + (f" · {_inert(c.field)}" if c.field else "")
            if c.change == "added":
                lines.append(f"- {where}：新增" + (f"“{_inert(c.new)}”" if c.new else ""))
            elif c.change == "removed":
                lines.append(f"- {where}：删除" + (f"“{_inert(c.old)}”" if c.old else ""))
            else:
                lines.append(f"- {where}：“{_inert(c.old)}” → “{_inert(c.new)}”")
        lines.append("")
    lines.append("<sub>由 casebook diff 生成。* 表示原文脱敏的数值。</sub>")
    return "\n".join(lines) + "\n"


def to_json(diff: Diff) -> str:
    payload = {"from": diff.old_rev, "to": diff.new_rev, "changed": not diff.empty,
               "figures": [asdict(f) for f in diff.figures], "facts": [asdict(f) for f in diff.facts]}
    return json.dumps(payload, ensure_ascii=False, indent=2)
