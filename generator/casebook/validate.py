"""Validate a casebook directory: every file against its model, then the files against each other.

Every error is collected before anything fails (an editor fixes them all in one go), and every
error names file, line, column, field and a fix. Figures are resolved to the catalogue's unit here,
exactly, so later stages only ever see a number in the catalogue unit, ``"*"`` or ``None``.
"""

from __future__ import annotations

import copy
import datetime
import difflib
import functools
import json
import os
import stat
import time
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from .book import Casebook as Casebook  # where the stages have found it
from .errors import CaseError
from .figures import (
    DESENSITISED,
    FigureError,
    ParsedFigure,
    check_quote,
    convert,
    format_figure,
    in_catalogue_unit,
    non_negative,
    unit_family,
)
from .loader import LoadedFile, Path_, dotted, load_file
from .models import (
    FILE_MODELS,
    KIND_LABELS,
    LESSON_REF_KINDS,
    LINKABLE_LABELS,
    REFUSAL_KINDS,
    Alliance,
    Cluster,
    Example,
    Indicator,
    IndicatorCatalogue,
    Lesson,
    Mechanism,
    Observation,
    Span,
    Strand,
    iter_verbatim,
    locate_sections,
    sections_of,
)
from .models import Model as Model_
from .models import SourceList as SourceList_
from .store import Store, code_digest, content_hash

SINGLETON_FILES = {"alliance.yaml": "alliance", "indicators.yaml": "indicators", "sources.yaml": "sources"}
COLLECTION_DIRS = {"clusters": "cluster", "lessons": "lesson"}
YAML_SUFFIXES = (".yaml", ".yml")


# --------------------------------------------------------------------------- discovery


def file_kind(rel: Path) -> str | None:
    """Which model a file holds, from where it lives in the casebook."""
    parts = rel.parts
    if len(parts) == 1:
        # alliance.yml or ALLIANCE.YAML is the alliance file misnamed: the loader says how to rename it.
        name = parts[0].lower()
        return SINGLETON_FILES.get(name[: -len(".yml")] + ".yaml" if name.endswith(".yml") else name)
    if len(parts) == 2 and parts[0] in COLLECTION_DIRS:
        return COLLECTION_DIRS[parts[0]]
    return None


def display_path(path: Path) -> str:
    # Relative to the working directory when inside it (CI annotations need repo-relative paths).
    return _display(os.getcwd(), os.fspath(path))


@functools.lru_cache(maxsize=65_536)
def _display(cwd: str, path: str) -> str:
    # Kept by working directory and path: a resident preview shows every file's path after every
    # save, and relpath was half a second of that at 10,000 clusters.
    try:
        rel = os.path.relpath(path, cwd)
    except ValueError:  # another drive on Windows
        return path
    return path if rel.startswith("..") else rel


def discover(root: Path) -> list[Path]:
    """Every YAML file under ``root``, whatever the case of its extension (``.yml``, ``.YAML`` …):
    none is skipped silently; the loader reports any spelling other than ``.yaml``."""
    paths: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        # A linked folder is not walked (it may lead outside the casebook) and not skipped silently:
        # it is listed, and reported as a link like a linked file.
        paths.extend(Path(dirpath) / d for d in dirnames if (Path(dirpath) / d).is_symlink())
        paths.extend(Path(dirpath) / f for f in sorted(filenames) if f.lower().endswith(YAML_SUFFIXES))
    return paths


# --------------------------------------------------------------------------- model errors


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    """The model inside list[X], X | None and the like."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _inner_model(arg)
            if found:
                return found
    return None


def field_info(model: type[BaseModel], loc: Path_) -> tuple[str, type[BaseModel] | None, list[str]]:
    """The Chinese title of the field at ``loc``, its owning model, and its sibling field names."""
    current: type[BaseModel] | None = model
    title, owner, siblings = "", model, list(model.model_fields)
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        info = current.model_fields.get(part)
        owner, siblings = current, list(current.model_fields)
        if info is None:
            return title, owner, siblings
        title = info.title or part
        current = _inner_model(info.annotation)
    return title, owner, siblings


def _describe_input(value: Any) -> str:
    if value is None:
        return "空值"
    if isinstance(value, dict):
        return "一组“字段名: 值”"
    if isinstance(value, list):
        return "一个列表"
    return f"“{value}”"


def _translate(err: ErrorDetails, siblings: list[str]) -> tuple[str, bool]:
    """Chinese message for one pydantic error; the flag says to point at the key, not the value."""
    kind, ctx, value = err["type"], err.get("ctx") or {}, err.get("input")
    key = err["loc"][-1] if err["loc"] else ""
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(str(key), siblings, n=1, cutoff=0.6)
        hint = f"是不是想写“{close[0]}”？" if close else ""
        return (f"未知字段“{key}”。提示：{hint}这一层可用的字段有：{'、'.join(siblings)}；"
                "字段名必须完全一致（区分大小写）", True)
    if kind == "missing":
        return f"缺少必填字段“{key}”。提示：在这一项里加上“{key}: …”", False
    if kind in REFUSAL_KINDS or kind.startswith("custom"):
        return err["msg"], False
    if value is None and kind.endswith("_type"):
        return "不能为空。提示：填写内容，或删去这个字段", False
    if kind in ("string_type",):
        return f"应为一段文字，这里是{_describe_input(value)}。提示：文字直接写在冒号后面，不要换行缩进或以“- ”开头", False
    if kind in ("list_type",):
        return f"应为列表，这里是{_describe_input(value)}。提示：每一项另起一行，以“- ”开头", False
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"应为一组“字段名: 值”，这里是{_describe_input(value)}。提示：在下一行缩进两格后逐项填写", False
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"应为整数，这里是{_describe_input(value)}。提示：只写阿拉伯数字，如 3", False
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        limit = ctx.get("ge", ctx.get("le", ctx.get("gt", ctx.get("lt"))))
        return f"数值{_describe_input(value)}超出范围（界限 {limit}）。提示：请核对", False
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return f"取值{_describe_input(value)}不在允许范围内。提示：可选值为 {expected}", False
    if kind == "string_pattern_mismatch":
        if "/" in str(ctx.get("pattern", "")):
            return (f"来源“{value}”格式不对。提示：写成“文档标识/章节标识”，如 writeup/part-2-grain-store，"
                    "只用小写英文字母、数字和连字符", False)
        return (f"标识{_describe_input(value)}格式不对。提示：只用小写英文字母、数字和连字符，"
                "如 grain-store", False)
    if kind in ("string_too_short", "too_short"):
        return "不能为空。提示：填写内容，或删去这个字段", False
    if kind in ("string_too_long", "too_long"):
        return f"内容过长（上限 {ctx.get('max_length')}）。提示：精简内容，或拆分为多项", False
    if kind.startswith("date") or kind.startswith("datetime"):
        return (f"日期{_describe_input(value)}无效（不存在或格式不对）。"
                "提示：写成 YYYY-MM-DD，如 2023-06-30，且须是真实存在的日期", False)
    if kind.startswith("bool"):
        return f"应为 true 或 false，这里是{_describe_input(value)}。提示：只写 true 或 false", False
    return f"内容不符合要求（{err['msg']}）。提示：参照字段说明填写", False


def _model_errors(exc: ValidationError, model: type[BaseModel], loaded: LoadedFile) -> list[CaseError]:
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        title, _, siblings = field_info(model, loc)
        if err["type"] == "extra_forbidden":
            _, _, siblings = field_info(model, (*loc[:-1], "\0"))
        message, at_key = _translate(err, siblings)
        if err["type"] == "missing":
            pos = loaded.pos(loc[:-1])
        else:
            pos = loaded.pos(loc, key=at_key) if at_key else loaded.pos(loc)
        out.append(CaseError(loaded.display, pos.line, pos.column, dotted(loc), message, title))
    return out


# --------------------------------------------------------------------------- cross-file checks


Walk = list[tuple[Path_, BaseModel]]


LINKABLE_MODELS = (Mechanism, Model_, Strand, Example)  # what a lesson or a model may link to, by id


def _walk(obj: Any, loc: Path_ = ()) -> Walk:
    """Every model inside ``obj`` with its location, depth first in field order (iterative, and
    skipping plain values: at a thousand clusters this walk ran over a million times)."""
    out: list[tuple[Path_, BaseModel]] = []
    stack: list[tuple[Path_, Any]] = [(loc, obj)]
    while stack:
        here, item = stack.pop()
        if isinstance(item, BaseModel):
            out.append((here, item))
            for name in _model_fields(type(item)):
                value = getattr(item, name)
                if isinstance(value, BaseModel | list):
                    stack.append(((*here, name), value))
        else:
            for i in range(len(item) - 1, -1, -1):
                if isinstance(item[i], BaseModel | list):
                    stack.append(((*here, i), item[i]))
    return out


@functools.cache
def _model_fields(cls: type[BaseModel]) -> tuple[str, ...]:
    """The fields of ``cls`` that can hold a model, last first (the order _walk stacks them): the
    rest (text, numbers, figures, lists of text) are never looked into."""
    return tuple(name for name, info in reversed(cls.model_fields.items()) if _may_hold_model(info.annotation))


def _may_hold_model(annotation: Any) -> bool:
    """Whether a value of this type can be or contain a model; True for any form not known here."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _may_hold_model(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        return False
    if origin is None:
        if annotation is None or annotation is type(None):
            return False
        if isinstance(annotation, type):
            return issubclass(annotation, BaseModel | list | tuple | dict | set | frozenset) or annotation is object
        return True  # Any, a type variable, a forward reference
    return any(_may_hold_model(arg) for arg in typing.get_args(annotation))


class _Checker:
    def __init__(self, book: Casebook) -> None:
        self.book = book
        self.errors: list[CaseError] = []

    def err(self, loaded: LoadedFile, loc: Path_, message: str, model: type[BaseModel], key: bool = False) -> None:
        pos = loaded.pos(loc, key=key)
        title, _, _ = field_info(model, loc)
        self.errors.append(CaseError(loaded.display, pos.line, pos.column, dotted(loc), message, title))


def cross_check(book: Casebook, parsed: list[tuple[LoadedFile, str, BaseModel]],
                verbatim_cache: Store | None = None, known_walks: dict[int, Walk] | None = None,
                checked: set[int] | None = None, known_linkables: dict[int, Walk] | None = None) -> list[CaseError]:
    """Every check across files, and each figure resolved into its catalogue unit (in place).
    ``known_walks``: models' walks already made (by id), spared a walk of their own, and
    ``known_linkables`` what of them other files may link to; ``checked``:
    models (by id) that passed their own checks against this catalogue and these sources already
    (the source references, the figures, resolved: see load_casebook), which are not run again."""
    known_walks = known_walks or {}
    known_linkables = known_linkables or {}
    checked = checked or set()
    ck = _Checker(book)
    kinds = {kind for _, kind, _ in parsed}
    root_display = display_path(book.root)
    for needed in ("indicators", "sources"):
        if needed not in kinds and needed not in book.failed_kinds:
            ck.errors.append(CaseError(
                os.path.join(root_display, f"{needed}.yaml"), 1, 1, "",
                f"缺少{KIND_LABELS[needed]}文件 {needed}.yaml。提示：每个案例库都需要它，可从现有案例库复制后修改"))

    # Ids: each kind unique; linkable ids (mechanisms, models, strands, examples) unique across files.
    seen: dict[tuple[str, str], tuple[LoadedFile, Path_]] = {}

    def claim(namespace: str, ident: str, loaded: LoadedFile, loc: Path_, model: type[BaseModel]) -> None:
        key = (namespace, ident)
        if key in seen:
            first, _ = seen[key]
            where = first.display + ":" + str(first.pos(seen[key][1]).line)
            ck.err(loaded, loc, f"标识“{ident}”重复（已在 {where} 使用）。提示：每个标识在全库只能用一次，请改用另一个", model)
        else:
            seen[key] = (loaded, loc)

    linkables: dict[str, str] = {}
    sections: dict[str, set[str]] = {}
    walks: dict[int, list[tuple[Path_, BaseModel]]] = {}
    for loaded, _, model in parsed:
        mcls = type(model)
        # Each kind has its own class (FILE_MODELS): asking the model narrows its type too.
        if isinstance(model, Cluster):
            claim("cluster", model.id, loaded, ("id",), mcls)
            book.clusters.setdefault(model.id, model)
        elif isinstance(model, Lesson):
            claim("lesson", model.id, loaded, ("id",), mcls)
            book.lessons.setdefault(model.id, model)
        elif isinstance(model, IndicatorCatalogue):
            for i, ind in enumerate(model.indicators):
                claim("indicator", ind.id, loaded, ("indicators", i, "id"), mcls)
                book.indicators.setdefault(ind.id, ind)
                _check_bounds(ck, loaded, ("indicators", i), ind, mcls)
        elif isinstance(model, SourceList_):
            for i, src in enumerate(model.sources):
                claim("source", src.id, loaded, ("sources", i, "id"), mcls)
                book.sources.setdefault(src.id, src)
                ids: set[str] = set()
                for j, sec in enumerate(src.sections):
                    if sec.id in ids:
                        ck.err(loaded, ("sources", i, "sections", j, "id"),
                               f"章节标识“{sec.id}”在本文档中重复。提示：改用另一个标识", mcls)
                    ids.add(sec.id)
                sections[src.id] = ids
        elif isinstance(model, Alliance):
            book.alliance = model
        if isinstance(model, Cluster | Lesson) and model.id != loaded.path.stem:
            ck.err(loaded, ("id",), f"标识“{model.id}”与文件名“{loaded.path.name}”不一致。"
                                    f"提示：把文件改名为 {model.id}.yaml，或把标识改为“{loaded.path.stem}”", mcls)
        walks[id(model)] = known_walks.get(id(model)) or _walk(model)
        for loc, sub in known_linkables[id(model)] if id(model) in known_linkables else walks[id(model)]:
            if isinstance(sub, LINKABLE_MODELS):
                sub_kind = type(sub).__name__
                claim("linkable", sub.id, loaded, (*loc, "id"), mcls)
                linkables.setdefault(sub.id, sub_kind)

    texts = _source_texts(ck, parsed)
    spans = _section_spans(ck, parsed, texts)
    texts_key = content_hash(json.dumps([texts, spans], sort_keys=True, ensure_ascii=False))
    lesson_orders: dict[int, str] = {}
    for loaded, _, model in parsed:
        mcls = type(model)
        _check_verbatim_cached(ck, loaded, model, texts, texts_key, verbatim_cache, spans)
        default_source = getattr(model, "source", None)
        own = id(model) not in checked
        for loc, sub in walks[id(model)] if own else ():
            ref = getattr(sub, "source", None) if "source" in type(sub).model_fields else None
            if isinstance(ref, str):
                _check_source_ref(ck, loaded, (*loc, "source"), ref, sections, mcls)
            elif ref is None and sub is not model and default_source is None and "source" in type(sub).model_fields:
                ck.err(loaded, loc, "没有注明来源。提示：填写 source，或在文件顶层填写默认来源", mcls)
            if isinstance(sub, Observation):
                _resolve_observation(ck, loaded, loc, sub, book, mcls)
        if isinstance(model, Lesson):
            for i, cid in enumerate(model.clusters):
                if cid not in book.clusters and cid not in book.invalid_ids:
                    ck.err(loaded, ("clusters", i), _unknown("组团", cid, book.clusters), mcls)
            for name, i, mid in model.refs:
                takes = LESSON_REF_KINDS[name]
                wanted = {k: v for k, v in linkables.items() if v in takes}
                if mid in wanted or mid in book.invalid_ids or book.unreadable:
                    continue
                if mid in linkables:  # defined, but of another kind: say which field takes it
                    right = next(f for f, ks in LESSON_REF_KINDS.items() if linkables[mid] in ks)
                    ck.err(loaded, (name, i), f"“{mid}”是{LINKABLE_LABELS[linkables[mid]]}，不能写在 {name} 下。"
                                              f"提示：把它移到 {right} 下", mcls)
                else:
                    label = "、".join(LINKABLE_LABELS[k] for k in takes)
                    ck.err(loaded, (name, i), _unknown(label, mid, wanted), mcls)
            if model.order in lesson_orders:
                ck.err(loaded, ("order",), f"序号 {model.order} 与“{lesson_orders[model.order]}”重复。"
                                           "提示：每条经验启示的序号不同", mcls)
            lesson_orders.setdefault(model.order, model.id)
        if isinstance(model, Alliance):
            strands = {s.id for s in model.strands}
            for i, ex in enumerate(model.examples):
                if ex.strand not in strands:
                    ck.err(loaded, ("examples", i, "strand"), _unknown("资源路径", ex.strand, strands), mcls)
        if isinstance(model, Cluster | Alliance):
            examples = {e.id for e in model.examples} if isinstance(model, Alliance) else set()
            for i, mo in enumerate(model.models):
                for j, ex_id in enumerate(mo.examples):
                    if ex_id not in examples:
                        ck.err(loaded, ("models", i, "examples", j), _unknown("典型事例", ex_id, examples), mcls)
        if isinstance(model, Cluster | Alliance) and own:
            _check_duplicate_observations(ck, loaded, model, mcls)
    return ck.errors


PLACEHOLDER = "【待填写】"


def _placeholders(data: Any, loc: Path_ = ()) -> Iterator[Path_]:
    """Where a scaffolded file (`casebook new`) still holds the placeholder text."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _placeholders(value, (*loc, key))
    elif isinstance(data, list):
        for i, item in enumerate(data):
            yield from _placeholders(item, (*loc, i))
    elif isinstance(data, str) and PLACEHOLDER in data:
        yield loc


def _raw_ids(data: Any) -> Iterator[str]:
    if isinstance(data, dict):
        if isinstance(data.get("id"), str):
            yield data["id"]
        for value in data.values():
            yield from _raw_ids(value)
    elif isinstance(data, list):
        for item in data:
            yield from _raw_ids(item)


def _unknown(what: str, ident: str, known: Any) -> str:
    close = difflib.get_close_matches(ident, list(known), n=1, cutoff=0.6)
    hint = f"是不是想写“{close[0]}”？" if close else ""
    listing = "、".join(sorted(known)) or "（暂无）"
    return f"引用了不存在的{what}“{ident}”。提示：{hint}现有的有：{listing}"


MAX_SOURCE_BYTES = 8 * 1024 * 1024


def _squash(text: str) -> str:
    # Line breaks and spaces differ between a source file and a YAML value; nothing else may.
    return "".join(text.split())


class SourceFileRefused(Exception):
    """A source's ``file`` that is not a regular file inside the casebook; the message is Chinese."""


_SOURCE_HINT = "提示：把原文放在案例库目录内，写相对路径，如 sources/writeup.txt"


def source_file_path(root: Path, file: str) -> Path:
    """The real path of a source's ``file``, decided before anything is opened: the only way to a
    source file (sources.yaml comes from pull requests; a file read here shows its contents through
    "not found in the source" errors). Refuses absolute, drive and ``..`` paths, a symlink at any
    step, anything but a regular file, and any path whose resolved form leaves the resolved root."""
    if (not file or "\\" in file or ":" in file or "\0" in file or file.startswith("/")
            or Path(file).is_absolute() or ".." in Path(file).parts):
        raise SourceFileRefused(f"文件路径“{file}”指向案例库之外。{_SOURCE_HINT}")
    parts = Path(file).parts
    if not parts:
        raise SourceFileRefused(f"“{file}”不是普通文件，不予读取。{_SOURCE_HINT}")
    base = root.resolve()
    here = base
    for part in parts:
        here = here / part
        try:
            info = os.lstat(here)
        except OSError:
            raise SourceFileRefused(f"找不到文件“{file}”。{_SOURCE_HINT}") from None
        if stat.S_ISLNK(info.st_mode):
            raise SourceFileRefused(f"文件“{file}”（或它所在的文件夹）是符号链接，不予读取。{_SOURCE_HINT}")
    if not stat.S_ISREG(info.st_mode):
        raise SourceFileRefused(f"“{file}”不是普通文件，不予读取。{_SOURCE_HINT}")
    real = here.resolve()
    if not real.is_relative_to(base):
        raise SourceFileRefused(f"文件路径“{file}”指向案例库之外。{_SOURCE_HINT}")
    return real


def read_source_file(root: Path, file: str) -> bytes:
    """The bytes of a source's ``file`` (see :func:`source_file_path`). Opened without following a
    symlink or blocking on a pipe, and checked again once open, so a file swapped after the check
    is refused too."""
    path = source_file_path(root, file)
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        raise SourceFileRefused(f"文件“{file}”无法读取。{_SOURCE_HINT}") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise SourceFileRefused(f"“{file}”不是普通文件，不予读取。{_SOURCE_HINT}")
        if info.st_size > MAX_SOURCE_BYTES:
            raise SourceFileRefused("原文文件超过 8 MB。提示：只保留原文正文")
        data = fh.read(MAX_SOURCE_BYTES + 1)
    if len(data) > MAX_SOURCE_BYTES:
        raise SourceFileRefused("原文文件超过 8 MB。提示：只保留原文正文")
    return data


def _source_texts(ck: _Checker, parsed: list[tuple[LoadedFile, str, BaseModel]]) -> dict[str, str]:
    """The text of every source document that has a file, squashed, by document id. A file that
    is refused or unreadable is reported, and no quote is checked against it."""
    texts: dict[str, str] = {}
    for loaded, _, model in parsed:
        if not isinstance(model, SourceList_):
            continue
        for i, src in enumerate(model.sources):
            if not src.file:
                continue
            try:
                data = read_source_file(ck.book.root, src.file)
            except SourceFileRefused as exc:
                ck.err(loaded, ("sources", i, "file"), str(exc), type(model))
                continue
            try:
                texts[src.id] = _squash(data.decode("utf-8-sig"))
            except UnicodeDecodeError:
                ck.err(loaded, ("sources", i, "file"), f"原文文件“{src.file}”不是 UTF-8 编码。"
                                                      "提示：用编辑器另存为 UTF-8", type(model))
    return texts


def _section_spans(ck: _Checker, parsed: list[tuple[LoadedFile, str, BaseModel]],
                   texts: dict[str, str]) -> dict[str, dict[str, Span]]:
    """Where each section of each document with a text lies in it (models.locate_sections), by
    document and section id; a section that cannot be placed is reported in sources.yaml."""
    spans: dict[str, dict[str, Span]] = {}
    for loaded, _, model in parsed:
        if not isinstance(model, SourceList_):
            continue
        for i, src in enumerate(model.sources):
            if src.id not in texts or src.id in spans:
                continue
            spans[src.id], problems = locate_sections(texts[src.id], src.sections, _squash)
            for j, field, message in problems:
                ck.err(loaded, ("sources", i, "sections", j, field), message, type(model))
    return spans


def _check_verbatim_cached(ck: _Checker, loaded: LoadedFile, model: BaseModel, texts: dict[str, str],
                           texts_key: str, cache: Store | None, spans: dict[str, dict[str, Span]]) -> None:
    """The verbatim check, remembered per (file content, source texts, code): at province scale
    walking every model for quoted fields is a large part of a rebuild."""
    if cache is None:
        _check_verbatim(ck, loaded, model, texts, spans)
        return
    # The file's bytes (with its path and the code) make the model: the loader's key for them stands
    # for it, sparing a JSON dump of every model on every build.
    made_of = loaded.digest or model.model_dump_json()
    key = content_hash(made_of, type(model).__name__, loaded.display, texts_key, code_digest())
    if cache.get("verbatim", key) is not None:
        return  # checked before, and clean (only clean results are kept: errors carry positions)
    before = len(ck.errors)
    _check_verbatim(ck, loaded, model, texts, spans)
    if len(ck.errors) == before:
        cache.put("verbatim", key, b"ok")


def _check_verbatim(ck: _Checker, loaded: LoadedFile, model: BaseModel, texts: dict[str, str],
                    spans: dict[str, dict[str, Span]]) -> None:
    """Names, slogans, terms and quotes must appear in their source exactly (when its text is on
    file), and in the section they cite (or one of its sub-sections) when they cite one."""
    items: list[tuple[Path_, str, str | None]]
    if isinstance(model, SourceList_):
        items = [(("sources", i, *loc), text, src.id) for i, src in enumerate(model.sources)
                 for loc, text, _ in iter_verbatim(src)]
    else:
        items = list(iter_verbatim(model))
    for loc, text, ref in items:
        doc, _, section = (ref or "").partition("/")
        if doc not in texts:
            continue
        needle = _squash(text)
        if needle not in texts[doc]:
            ck.err(loaded, loc, f"原文“{doc}”中找不到“{text}”。提示：名称、口号、术语和引文须与原文逐字一致"
                                "（包括标点、引号和 * 号）；自己的说明请写在 description、summary 等说明字段中",
                   type(model))
            continue
        span = spans.get(doc, {}).get(section)
        if span is None or needle in texts[doc][span[0]:span[1]]:
            continue
        # Found only outside the cited section: name where it is (text outside every section passes).
        found = sections_of(spans[doc], texts[doc], needle)
        if found:
            titles = {sec.id: sec.title for sec in ck.book.sources[doc].sections}
            where = "、".join(f"“{titles[sid]}”（{sid}）" for sid in found[:3])
            where += f"等 {len(found)} 个章节" if len(found) > 3 else ""
            ck.err(loaded, loc, f"“{text}”不在所注出处“{titles[section]}”（{ref}）中。"
                                f"提示：这句话出自{where}，把 source 改为 {doc}/{found[0]}", type(model))


def _check_source_ref(ck: _Checker, loaded: LoadedFile, loc: Path_, ref: str,
                      sections: dict[str, set[str]], model: type[BaseModel]) -> None:
    doc, _, section = ref.partition("/")
    if "sources" in ck.book.failed_kinds:
        return  # the sources file has its own errors; fix those first
    if doc not in ck.book.sources:
        ck.err(loaded, loc, _unknown("来源文档", doc, ck.book.sources), model)
    elif section and section not in sections.get(doc, set()):
        ck.err(loaded, loc, _unknown(f"“{doc}”的章节", section, sections.get(doc, set())), model)


def _resolve_observation(ck: _Checker, loaded: LoadedFile, loc: Path_, obs: Observation,
                         book: Casebook, model: type[BaseModel]) -> None:
    ind = book.indicators.get(obs.indicator)
    if ind is None and "indicators" in book.failed_kinds:
        return  # the catalogue has its own errors; fix those first
    if ind is None:
        ck.err(loaded, (*loc, "indicator"), _unknown("指标", obs.indicator, book.indicators)
               + "；新指标请先加入 indicators.yaml", model)
        return
    fig = obs.value
    fig_unit = fig.unit if fig else None
    written = [u for u in (obs.unit, fig_unit) if u]
    if len(set(written)) > 1:
        ck.err(loaded, (*loc, "unit"), f"unit 写的是“{obs.unit}”，数值里写的是“{fig_unit}”。提示：只保留一处单位", model)
        return
    unit = written[0] if written else ind.unit
    if unit_family(unit) != unit_family(ind.unit):
        ck.err(loaded, (*loc, "unit" if obs.unit else "value"),
               f"单位“{unit}”与指标目录中“{ind.name}”的单位“{ind.unit}”不一致，也不能换算。"
               f"提示：按“{ind.unit}”填写数值，或检查是否选错了指标", model)
        return
    if fig is None:
        obs.unit = ind.unit
        return
    if fig.value != DESENSITISED:
        try:  # the bounds of every figure hold in the unit it is stored and drawn in, too
            stored = in_catalogue_unit(fig.value, unit, ind.unit)
        except FigureError as exc:
            ck.err(loaded, (*loc, "value"), f"{exc.message}。提示：{exc.hint}", model)
            return
        _check_range(ck, loaded, loc, stored, ind, model)
    if obs.quote:
        problem = check_quote(fig.value, unit, ind.unit, obs.qualifier, obs.quote)
        if problem:
            # A qualifier folded in from the value text has no key of its own: point at the value.
            on = (*loc, problem.on)
            if on not in loaded.positions:
                on = (*loc, "value")
            ck.err(loaded, on, problem.message, model)
    if fig.value == DESENSITISED:
        # The unit the source used is part of what it discloses (*亿元 is not *万元): keep it.
        obs.value = ParsedFigure(DESENSITISED, unit, obs.qualifier)
        obs.unit = unit
        return
    obs.value = ParsedFigure(convert(fig.value, unit, ind.unit), ind.unit, obs.qualifier)
    obs.unit = ind.unit


def _check_range(ck: _Checker, loaded: LoadedFile, loc: Path_, value: Decimal, ind: Indicator,
                 model: type[BaseModel]) -> None:
    """A disclosed figure (in the catalogue unit) must be possible for its unit and within its
    indicator's bounds. The texts are made only for a message (every disclosed figure passes here)."""
    where = (*loc, "value")
    below_zero = value < 0 and non_negative(ind.unit)
    below = ind.min is not None and value < ind.min
    above = ind.max is not None and value > ind.max
    if not (below_zero or below or above):
        return
    shown = format_figure(value, None, ind.unit)
    lo = None if ind.min is None else format_figure(Decimal(ind.min), None, ind.unit)
    hi = None if ind.max is None else format_figure(Decimal(ind.max), None, ind.unit)
    if below_zero:
        ck.err(loaded, where, f"“{ind.name}”以“{ind.unit}”计，不能是负数（这里是 {shown}）。"
                              "提示：个数、人数、面积和金额都不会是负数，请核对原文；原文脱敏时写 '*'", model)
    if below:
        ck.err(loaded, where, f"数值 {shown}低于指标目录为“{ind.name}”规定的下限 {lo}。"
                              "提示：请核对原文；原文确实如此时，先放宽 indicators.yaml 中这一指标的 min", model)
    if above:
        ck.err(loaded, where, f"数值 {shown}超过指标目录为“{ind.name}”规定的上限 {hi}。"
                              "提示：请核对原文；原文确实如此时，先放宽 indicators.yaml 中这一指标的 max", model)


def _check_bounds(ck: _Checker, loaded: LoadedFile, loc: Path_, ind: Indicator, model: type[BaseModel]) -> None:
    """An indicator's own bounds must be possible: min ≤ max, and no negative min for a unit that
    cannot be negative (that min would suggest negatives are allowed; they are still refused)."""
    if ind.min is not None and ind.max is not None and ind.min > ind.max:
        ck.err(loaded, (*loc, "min"), f"下限 {ind.min} 大于上限 {ind.max}。提示：min 应不大于 max", model)
    if ind.min is not None and ind.min < 0 and non_negative(ind.unit):
        ck.err(loaded, (*loc, "min"), f"以“{ind.unit}”计的数不会是负数，下限却是 {ind.min}。"
                                      "提示：删去 min（程序已拒绝负数），或改为 0 以上", model)


def _check_duplicate_observations(ck: _Checker, loaded: LoadedFile, model: Any, mcls: type[BaseModel]) -> None:
    # Two disclosed figures for the same indicator, year, period and scope contradict each other.
    # A desensitised year ("*") may hide different years, so it never counts as a duplicate.
    seen: dict[tuple[Any, ...], int] = {}
    for i, obs in enumerate(model.observations):
        if not isinstance(obs.year, int):
            continue
        key = (obs.indicator, obs.year, obs.period, obs.scope)
        if key in seen:
            ck.err(loaded, ("observations", i),
                   f"与第 {seen[key] + 1} 条数据重复（同一指标、年份、时期和范围）。"
                   "提示：删去一条，或用 scope/period 说明两者的区别", mcls)
        else:
            seen[key] = i


# --------------------------------------------------------------------------- validated models, cached


class _Unpackable(Exception):
    """A value the model cache does not know how to keep (the file is validated each build)."""


@functools.cache
def _model_classes() -> dict[str, type[BaseModel]]:
    """The case files' model classes by name: the only classes a cache entry may name, so an entry
    (damaged, or written by another version) can never make anything but a case model."""
    from . import models

    out: dict[str, type[BaseModel]] = {}
    stack: list[type[BaseModel]] = [models.Base]
    while stack:
        sub: type[BaseModel]
        for sub in stack.pop().__subclasses__():
            if sub.__module__ == models.__name__:
                out[sub.__name__] = sub
            stack.append(sub)
    return out


@functools.cache
def _plain_construct(cls: type[BaseModel]) -> bool:
    """Whether model_construct, given every field by name, only sets the instance's dictionaries
    (no alias, no extra fields kept, no post-init): then the cache sets them itself, at a fifth of
    the cost, to the very values model_construct would."""
    return (not cls.__pydantic_post_init__ and not cls.__pydantic_root_model__
            and cls.model_config.get("extra") != "allow"
            and all(f.alias is None and f.validation_alias is None for f in cls.__pydantic_fields__.values()))


@functools.cache
def _field_names(cls: type[BaseModel]) -> tuple[str, ...]:
    return tuple(cls.__pydantic_fields__)


# A cached model is JSON whose objects are the models' own field dictionaries, each marked with its
# class under the key "" (no field is named so) and the fields the file set under "~": json.loads
# builds every model bottom-up as it reads (object_hook), with no walk of its own.
_CLASS, _SET, _FIGURE, _DECIMAL, _DATE = "", "~", "#figure", "#decimal", "#date"


def _pack(value: Any) -> Any:
    """A validated model as JSON, every value exactly as validation left it (a Decimal by its
    str(), which keeps its digits and exponent)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, BaseModel):
        if type(value) is not _model_classes().get(type(value).__name__):
            raise _Unpackable(type(value).__name__)
        return {**{k: _pack(v) for k, v in value.__dict__.items()}, _CLASS: type(value).__name__,
                _SET: sorted(value.model_fields_set)}
    if isinstance(value, list):
        return [_pack(v) for v in value]
    if isinstance(value, ParsedFigure):
        return {_CLASS: _FIGURE, "value": _pack(value.value), "unit": value.unit, "qualifier": value.qualifier}
    if isinstance(value, Decimal):
        return {_CLASS: _DECIMAL, "text": str(value)}
    if type(value) is datetime.date:
        return {_CLASS: _DATE, "text": value.isoformat()}
    raise _Unpackable(type(value).__name__)  # a dict, a tuple, …: nothing a case model holds today


def _unpack_object(obj: dict[str, Any]) -> Any:
    """One JSON object of a cached model, its members already built (json.loads' object_hook)."""
    kind = obj.pop(_CLASS)
    if kind == _FIGURE:
        return ParsedFigure(obj["value"], obj["unit"], obj["qualifier"])
    if kind == _DECIMAL:
        return Decimal(obj["text"])
    if kind == _DATE:
        return datetime.date.fromisoformat(obj["text"])
    cls = _model_classes()[kind]
    fields_set = set(obj.pop(_SET))
    if tuple(obj) != _field_names(cls):
        raise _Unpackable(kind)  # written by a version with other fields
    if not _plain_construct(cls):
        return cls.model_construct(fields_set, **obj)
    model = cls.__new__(cls)
    object.__setattr__(model, "__dict__", obj)
    object.__setattr__(model, "__pydantic_fields_set__", fields_set)
    object.__setattr__(model, "__pydantic_extra__", None)
    object.__setattr__(model, "__pydantic_private__", None)
    return model


def _unpack(text: str) -> Any:
    """The model _pack kept, built without validating it again: validation made exactly these
    values from exactly these bytes, with this code (the entry's key)."""
    return json.loads(text, object_hook=_unpack_object)


def _model_key(loaded: LoadedFile, model_cls: type[BaseModel]) -> str:
    # The loader's key stands for the file's bytes, its path and the code that validates them.
    return content_hash("model", loaded.digest, model_cls.__name__)


# Models read back in this process, as the cache entry made them, by entry key: a long-lived
# process (the live preview) loads the casebook after every save, and decoding a thousand entries
# again was most of that load. The cross-check resolves figures in place (only the observations,
# which the top level of a cluster or the alliance holds): a kept cluster or alliance is never
# handed out, each load gets a copy with its own observations — or, when the file checked clean
# against the same indicator catalogue and sources before, the very copy that was checked then
# (its figures resolved already, its own checks not run again: they read nothing else).
@dataclass
class _Kept:
    key: str
    model: BaseModel
    walk: Walk
    # Where the model (-1) and each of its observations (their index) stand in its walk.
    replaced: list[tuple[int, int]]
    linkables: Walk  # what of the walk other files may link to (the same in every copy)
    own: bool = False  # not kept in the process: the cross-check may change this model itself


_PRISTINE: dict[str, _Kept] = {}
_CHECKED: dict[tuple[str, str], tuple[BaseModel, Walk]] = {}  # (entry key, context) → clean, resolved
_MEMO_LIMIT = 50_000


def forget_kept() -> None:
    """Drop the models and checks kept in this process (read from the cache again next time)."""
    _PRISTINE.clear()
    _CHECKED.clear()
    _READ.clear()


def _kept_model(cache: Store | None, loaded: LoadedFile, model_cls: type[BaseModel], keep: bool = True) -> _Kept | None:
    """The validated model of a file validated clean before (same bytes, path and code), or None.
    ``keep``: kept in the process for later loads (else the caller's own: no copy needed)."""
    if cache is None or not loaded.digest:
        return None
    key = _model_key(loaded, model_cls)
    kept = _PRISTINE.get(key)
    if kept is None:
        text = cache.get_text("model", key)
        if text is None:
            return None
        try:
            model = _unpack(text)
        except (ValueError, KeyError, TypeError, ArithmeticError, _Unpackable):
            return None  # a damaged entry: validated again, never a crash
        if type(model) is not model_cls:
            return None
        if not keep:
            walk = _walk(model)
            return _Kept(key, model, walk, [], [(loc, sub) for loc, sub in walk if isinstance(sub, LINKABLE_MODELS)],
                         own=True)
        if len(_PRISTINE) >= _MEMO_LIMIT:
            _PRISTINE.clear()
        walk = _walk(model)
        at = {id(o): i for i, o in enumerate(model.observations)} if isinstance(model, Cluster | Alliance) else {}
        replaced = [(n, -1 if sub is model else at[id(sub)]) for n, (loc, sub) in enumerate(walk)
                    if sub is model or (len(loc) == 2 and id(sub) in at)]
        kept = _PRISTINE[key] = _Kept(key, model, walk, replaced, [(loc, sub) for loc, sub in walk
                                                                   if isinstance(sub, LINKABLE_MODELS)])
    return kept


def _cached_model(cache: Store | None, loaded: LoadedFile, model_cls: type[BaseModel]) -> tuple[BaseModel, Walk] | None:
    """A model as _kept_model keeps it, fit for the cross-check (see _fresh), with its walk."""
    kept = _kept_model(cache, loaded, model_cls)
    return None if kept is None else _fresh(kept)


def _fresh(kept: _Kept) -> tuple[BaseModel, Walk]:
    """A kept model the cross-check may change: a copy with copied observations (a cluster or the
    alliance), or the model itself (nothing else is changed), and its walk pointing at them."""
    model = kept.model
    if not isinstance(model, Cluster | Alliance):
        return model, kept.walk
    copy = _copy(model)
    observations = [_copy(o) for o in model.observations]
    copy.__dict__["observations"] = observations
    out = list(kept.walk)
    for n, i in kept.replaced:
        out[n] = (out[n][0], copy if i < 0 else observations[i])
    return copy, out


def _copy(model: BaseModel) -> BaseModel:
    """A shallow copy, as model_copy makes it, without its three copy.copy calls (it ran for each
    of a thousand clusters' figures on every load)."""
    out = type(model).__new__(type(model))
    object.__setattr__(out, "__dict__", dict(model.__dict__))
    object.__setattr__(out, "__pydantic_fields_set__", set(model.__pydantic_fields_set__))
    extra, private = model.__pydantic_extra__, model.__pydantic_private__
    object.__setattr__(out, "__pydantic_extra__", None if extra is None else dict(extra))
    object.__setattr__(out, "__pydantic_private__", None if private is None else dict(private))
    return out


def _context(book: Casebook, parsed: list[tuple[LoadedFile, str, BaseModel]]) -> str | None:
    """What a cluster's or the alliance's own checks read beyond the file (the indicator catalogue
    and the sources, each by its file's cache key), or None when either is missing or failed."""
    files = {kind: loaded.digest for loaded, kind, _ in parsed if kind in ("indicators", "sources")}
    if len(files) < 2 or not all(files.values()) or book.failed_kinds & {"indicators", "sources"}:
        return None
    return content_hash(files["indicators"], files["sources"])


def _keep_model(cache: Store | None, loaded: LoadedFile, model: BaseModel) -> None:
    """Keep a model that validated clean (no placeholder), before the cross-check resolves its
    figures: the cross-check reads the other files too, and runs on the kept model each build."""
    if cache is None or not loaded.digest:
        return
    try:
        body = json.dumps(_pack(model), ensure_ascii=False, separators=(",", ":"))
    except _Unpackable:
        return
    cache.put("model", _model_key(loaded, type(model)), body)


# Files read in this process, by path: their status when read (modification and change times, size,
# inode), how they were shown, and what reading them gave. A resident preview loads the casebook
# after every save; at 10,000 clusters, reading and hashing every file and decoding its cache entry
# again was 2.7 s of the 3.6 s before the saved page. A file whose status is unchanged is not read
# again — the preview's watcher sees a save by the same status. A file changed less than
# _SETTLING before it was read is read again next time: a second write within the file system's
# clock tick would leave its status as it was (the "racy" case git guards against the same way).
_READ: dict[Path, tuple[tuple[int, int, int, int, str, str], LoadedFile, list[CaseError]]] = {}
_SETTLING = 2_000_000_000  # ns


def _load_file(path: Path, display: str, cache: Store | None) -> tuple[LoadedFile, list[CaseError]]:
    """load_file, or what it gave before for the same file unchanged (see _READ)."""
    if cache is None:
        return load_file(path, display, cache)
    now = time.time_ns()
    try:
        st = path.stat()
    except OSError:
        return load_file(path, display, cache)
    mark = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino, display, code_digest())
    hit = _READ.get(path)
    if hit is not None and hit[0] == mark:
        return copy.copy(hit[1]), list(hit[2])
    loaded, errors = load_file(path, display, cache)
    # Only what came back from the build cache is kept: its data is still the cached text, a few
    # bytes; a file parsed afresh would keep its whole decoded tree (the next load reads it through
    # the cache, and that is kept).
    if loaded.digest and loaded.unread and max(st.st_mtime_ns, st.st_ctime_ns) < now - _SETTLING:
        if len(_READ) >= _MEMO_LIMIT:
            _READ.clear()
        _READ[path] = (mark, copy.copy(loaded), list(errors))
    else:
        _READ.pop(path, None)
    return loaded, errors


# --------------------------------------------------------------------------- entry point


def load_casebook(root: Path, cache: Store | None = None, keep: bool = True) -> tuple[Casebook, list[CaseError]]:
    """Load and validate every file under ``root``. Returns the casebook and every error found.

    The casebook is only fit for rendering when the error list is empty. ``cache`` (a directory
    kept between runs) spares re-parsing unchanged files and re-checking their quotes. ``keep``:
    keep the models read from it, and their checks, in the process for the next load (a resident
    preview loads after every save; a command that loads once spares the copies that takes).
    """
    root = Path(root)
    book = Casebook(root=root)
    errors: list[CaseError] = []
    parsed: list[tuple[LoadedFile, str, BaseModel]] = []
    pending: list[tuple[int, _Kept]] = []  # models kept in this process: each placed below
    for path in discover(root):
        rel = path.relative_to(root)
        display = display_path(path)
        kind = file_kind(rel)
        if path.is_symlink():
            errors.append(CaseError(display, 1, 1, "", "案例文件不能是符号链接。提示：把真实文件放在案例库目录中"))
            continue
        if not stat.S_ISREG(path.lstat().st_mode):
            # A named pipe or device would block or never end: never opened.
            errors.append(CaseError(display, 1, 1, "", "这不是普通文件（可能是管道、设备或目录），不予读取。"
                                                       "提示：删除它，把案例内容保存为普通的 .yaml 文件"))
            continue
        if kind is None:
            errors.append(CaseError(
                display, 1, 1, "",
                "不认识这个文件的位置。提示：组团放在 clusters/，经验启示放在 lessons/，"
                "顶层只放 alliance.yaml、indicators.yaml、sources.yaml"))
            continue
        loaded, file_errors = _load_file(path, display, cache) if keep else load_file(path, display, cache)
        book.files[display] = loaded
        errors.extend(file_errors)
        if file_errors:
            book.failed_kinds.add(kind)
        if not loaded.has_data:
            # Unreadable: its ids are unknown, so unknown references elsewhere prove nothing yet.
            book.unreadable = True
            book.invalid_ids.add(path.stem)
            continue
        model_cls = FILE_MODELS[kind]
        kept = _kept_model(cache, loaded, model_cls, keep)
        if kept is not None:  # validated clean before, placeholders and all: nothing to report again
            pending.append((len(parsed), kept))
            parsed.append((loaded, kind, kept.model))
            continue
        holes = list(_placeholders(loaded.data))
        for loc in holes:
            pos = loaded.pos(loc)
            title, _, _ = field_info(model_cls, loc)
            errors.append(CaseError(display, pos.line, pos.column, dotted(loc),
                                    f"这里还是占位文字“{PLACEHOLDER}”。提示：按注释填写真实内容；暂时没有的可选字段可以整行删去",
                                    title))
        try:
            model = model_cls.model_validate(loaded.data)
        except ValidationError as exc:
            book.failed_kinds.add(kind)
            errors.extend(e for e in _model_errors(exc, model_cls, loaded)
                          if not any(e.field == dotted(h) or e.field.startswith(dotted(h) + ".")
                                     or e.field.startswith(dotted(h) + "[") for h in holes))
            # Keep references into this file from cascading into "unknown id" errors elsewhere.
            book.invalid_ids.update(_raw_ids(loaded.data))
            continue
        if holes:
            # An unfinished file is not checked against the others until it is filled in.
            book.failed_kinds.add(kind)
            book.invalid_ids.update(_raw_ids(loaded.data))
            continue
        _keep_model(cache, loaded, model)
        parsed.append((loaded, kind, model))
    # A kept model goes to the cross-check as the copy checked clean in this context before, or
    # as a fresh copy (kept as checked once it is found clean).
    context = _context(book, parsed)
    walks: dict[int, Walk] = {}
    linkables: dict[int, Walk] = {}
    checked: set[int] = set()
    fresh: list[tuple[LoadedFile, str, BaseModel]] = []
    for at, kept in pending:
        loaded, kind, _ = parsed[at]
        done = _CHECKED.get((kept.key, context)) if context is not None and not kept.own else None
        use, walk = (kept.model, kept.walk) if kept.own else done if done is not None else _fresh(kept)
        parsed[at] = (loaded, kind, use)
        walks[id(use)], linkables[id(use)] = walk, kept.linkables
        if done is not None:
            checked.add(id(use))
        elif context is not None and not kept.own and isinstance(use, Cluster | Alliance):
            fresh.append((loaded, kept.key, use))
    parsed.sort(key=lambda item: ("sources", "indicators").index(item[1]) if item[1] in ("sources", "indicators") else 2)
    if not book.files and not errors:
        return book, [CaseError(display_path(root), 1, 1, "", "目录中没有案例文件。提示：检查 --cases 指向的目录")]
    errors.extend(cross_check(book, parsed, cache, walks, checked, linkables))
    if fresh and context is not None:
        wrong = {e.file for e in errors}
        if len(_CHECKED) + len(fresh) > _MEMO_LIMIT:
            _CHECKED.clear()
        for loaded, key, use in fresh:
            if loaded.display not in wrong:
                _CHECKED[(key, context)] = (use, walks[id(use)])
    return book, sorted(set(errors), key=lambda e: (e.file, e.line, e.column, e.message))

