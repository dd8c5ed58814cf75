"""The internal edition's overlay: the real figures and names the public case files mask.

A data owner keeps an overlay folder outside the public repository, laid out like ``cases/``:
``clusters/<id>.yaml``, ``alliance.yaml``, ``lessons/<id>.yaml`` — one file per case file that
has masked content — and optionally ``sources/<file>``, the unmasked text of a source document
(same file name as the public one), against which real quotes are checked word for word.

An overlay file holds two lists:

- ``figures``: one entry per desensitised figure, naming the public entry it fills in (its
  indicator, and its quote / scope / period where the indicator alone is ambiguous), with the
  real ``value``, the real ``year`` where the public one is masked, the unmasked quote, and a
  ``disclosure`` (masked: ``*`` in public, the default; public: the value is published; index:
  the public edition shows an index, base year = 100, never the amount);
- ``names``: one entry per masked text (``*山镇``, ``区级“*红盟”``) with its real text; the real
  text keeps the public text around every ``*`` word for word.

An entry that matches no public entry, or several, is a located Chinese error; an entry still as
the skeleton wrote it (value ``'*'``, real text equal to the masked one) is simply not filled in
yet. The overlay is loaded with the casebook's own loader and schema types, so its errors are
``file:line:col`` errors like any case file's.

Nothing here imports a host; the editions are built from the Casebooks this module returns.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from .book import Casebook
from .errors import CaseError
from .figures import DESENSITISED, FigureError, ParsedFigure, check_quote, convert, in_catalogue_unit, unit_family
from .loader import LoadedFile, Path_, dotted, load_file
from .models import Base, F, FigureValue, Observation, Qualifier, Slug, Unit, Year, iter_verbatim
from .present import year_text

Disclosure = Literal["masked", "public", "index"]
DISCLOSURE_LABELS = {"masked": "不公开（公开版显示 *）", "public": "公开（公开版显示真实数值）",
                     "index": "以指数公开（公开版显示以基年为 100 的指数）"}
EditionName = Literal["public", "internal"]
INTERNAL_MARK = "内部资料"
INTERNAL_SITE_DIR = "site-internal"
INTERNAL_CACHE_DIR = ".cache/casebook-internal"
SCHEMA_FILE = "overlay.schema.json"


# --------------------------------------------------------------------------- the overlay's models


class OverlayFigure(Base):
    """The real value of one desensitised figure of the public case file."""

    indicator: Slug = F("指标", "公开案例文件中这条数据的指标标识，照抄，用来找到它。")
    quote: str | None = F("公开原文", "公开案例文件中这条数据的 quote（含 *），照抄；同一指标有多条数据时用来区分。", None)
    scope: str | None = F("统计范围", "公开案例文件中这条数据的 scope，照抄；用来区分同一指标的多条数据。", None)
    period: str | None = F("时期", "公开案例文件中这条数据的 period，照抄；用来区分同一指标的多条数据。", None)
    value: FigureValue = F("真实数值", "这项数据的真实数值（按公开原文的单位，或写明单位）；还没有时保留 '*'。", None)
    unit: Unit | None = F("单位", "真实数值的单位；省略时按公开原文的单位。", None)
    qualifier: Qualifier | None = F("限定词", "真实数值的限定词（余、近、超……）；省略时沿用公开数据的限定词。", None)
    year: Year | None = F("年份", "公开数据的年份是 '*' 时，在这里写真实年份（还没有时保留 '*'）；公开数据有年份时照抄，用来区分同一指标的多条数据。", None)
    real_quote: str | None = F("未脱敏原文", "未脱敏材料中的对应原文，除 * 处外与公开原文一字不差；可省略。", None)
    disclosure: Disclosure = F("公开方式", "masked（默认）：公开版显示 *；public：公开版显示真实数值（它就不再保密）；"
                                       "index：公开版显示以基年为 100 的指数，不显示真实数值（需有年份）。", "masked")
    note: str | None = F("备注", "数据所有方的说明，只在内部版中显示。", None)


class OverlayName(Base):
    """The real text of one masked name or phrase of the public case file."""

    masked: str = F("公开写法", "公开案例文件中的写法（含 *），照抄，如“*山镇”。")
    real: str = F("真实写法", "未脱敏的写法，除 * 处外与公开写法一字不差，如“青山镇”；还没有时保留公开写法。")
    field: str | None = F("字段", "只在这个字段中替换（如 location.town、partners[2].name）；同一写法在本文件中指不同地方时填写。", None)


class OverlayFile(Base):
    """One overlay file: the real figures and names of the public case file at the same path."""

    figures: list[OverlayFigure] = F("数据", "公开案例文件中脱敏数据的真实数值，一条对应一条。", [])
    names: list[OverlayName] = F("名称", "公开案例文件中脱敏名称的真实写法，一条对应一个写法。", [])


# --------------------------------------------------------------------------- what an overlay holds


@dataclass(eq=False)  # compared and hashed by identity: a key of index_series
class FigureFill:
    """One filled-in figure: which public observation it is, and its real value and year."""

    case_file: str  # the public case file (display path)
    owner: str  # "cluster:<id>" or "alliance"
    index: int  # the observation's index in its owner's observations
    entry: str  # where it is in the overlay: "overlay/clusters/x.yaml:12"
    label: str  # what it is, in Chinese
    indicator: str
    value: ParsedFigure | None  # in the catalogue unit; None: not filled in yet
    year: int | None  # the real year where the public one is masked and it is filled in
    real_quote: str | None
    disclosure: Disclosure
    note: str | None = None
    index_value: tuple[Decimal, int] | None = None  # disclosure index: (index, base year)


@dataclass
class NameFill:
    case_file: str
    owner: str
    entry: str
    masked: str
    real: str
    field_path: str | None  # the name's `field`: only there (None: the whole file)
    filled: bool  # False: still as the skeleton wrote it
    pieces: list[str] = field(default_factory=list)  # the real text of each '*', in order


@dataclass
class Overlay:
    root: Path
    figures: list[FigureFill] = field(default_factory=list)
    names: list[NameFill] = field(default_factory=list)
    source_texts: dict[str, str] = field(default_factory=dict)  # unmasked source text by document id

    def filled_figures(self) -> list[FigureFill]:
        return [f for f in self.figures if f.value is not None]

    def counts(self) -> dict[str, int]:
        return {"figures": len(self.figures), "figures_filled": len(self.filled_figures()),
                "names": len(self.names), "names_filled": sum(1 for n in self.names if n.filled)}


# --------------------------------------------------------------------------- where it may live


def public_repository(cases: Path) -> Path:
    """The public repository around a cases folder: its git work tree, else the project folder."""
    cases = cases.resolve()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    try:
        out = subprocess.run(["git", "-C", str(cases), "rev-parse", "--show-toplevel"], capture_output=True,
                             text=True, timeout=20, env=env, check=False)
        if out.returncode == 0 and out.stdout.strip():
            return Path(out.stdout.strip()).resolve()
    except (OSError, subprocess.SubprocessError):
        pass
    return cases.parent


def placement_error(overlay: Path, cases: Path) -> str | None:
    """Why an overlay may not be used where it is (inside the public repository), or None."""
    repo = public_repository(cases)
    where = overlay.resolve()
    if where == repo or where.is_relative_to(repo):
        return (f"内部数据目录“{overlay}”在公开仓库“{repo}”之内，不予使用：放在这里的真实数值迟早会被提交、公开。"
                "提示：把内部数据放在公开仓库之外（单独的私有仓库或内部共享目录），如 ../共富案例库-内部数据")
    return None


# --------------------------------------------------------------------------- loading and matching


def _owners(book: Casebook) -> dict[str, tuple[str, BaseModel]]:
    """Public case files with the model each holds, by path relative to the cases folder."""
    out: dict[str, tuple[str, BaseModel]] = {}
    for cid, cluster in book.clusters.items():
        out[f"clusters/{cid}.yaml"] = (f"cluster:{cid}", cluster)
    for lid, lesson in book.lessons.items():
        out[f"lessons/{lid}.yaml"] = (f"lesson:{lid}", lesson)
    if book.alliance is not None:
        out["alliance.yaml"] = ("alliance", book.alliance)
    return out


def _display(root: Path, rel: str) -> str:
    from .validate import display_path

    return display_path(root / rel)


def strings(obj: Any, loc: Path_ = ()) -> list[tuple[Path_, str]]:
    """Every text value inside a model with its location (observations' own texts included)."""
    out: list[tuple[Path_, str]] = []
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            out += strings(getattr(obj, name), (*loc, name))
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            out += strings(item, (*loc, i))
    elif isinstance(obj, str):
        out.append((loc, obj))
    return out


def _squash(text: str) -> str:
    return "".join(text.split())


def star_pattern(masked: str) -> re.Pattern[str]:
    """The texts a masked text may stand for: each '*' any non-empty text, the rest word for word."""
    parts = [re.escape(p) for p in _squash(masked).split(DESENSITISED)]
    return re.compile("(.+?)".join(parts), re.DOTALL)


def unmask(masked: str, real: str) -> list[str] | None:
    """The real text of each '*' of ``masked`` in ``real``, or None when ``real`` does not keep the
    rest of ``masked`` word for word."""
    found = star_pattern(masked).fullmatch(_squash(real))
    if found is None:
        return None
    return [p for p in found.groups()]


def _describe_obs(obs: Observation) -> str:
    bits = [f"指标 {obs.indicator}"]
    if obs.scope:
        bits.append(f"范围“{obs.scope}”")
    if obs.period:
        bits.append(f"时期“{obs.period}”")
    if obs.quote:
        bits.append(f"原文“{obs.quote}”")
    return "，".join(bits)


def load_overlay(root: Path, book: Casebook) -> tuple[Overlay, list[CaseError]]:
    """Load and check an overlay against a validated public casebook: every error, located."""
    from .validate import _check_range, _Checker, _model_errors, field_info, read_source_file

    root = Path(root)
    overlay = Overlay(root=root)
    errors: list[CaseError] = []
    owners = _owners(book)
    ck = _Checker(book)

    def err(loaded: LoadedFile, loc: Path_, message: str) -> None:
        pos = loaded.pos(loc)
        title, _, _ = field_info(OverlayFile, loc)
        errors.append(CaseError(loaded.display, pos.line, pos.column, dotted(loc), message, title))

    # The unmasked source documents, by the public document's file name.
    for sid, src in book.sources.items():
        if src.file and (root / src.file).is_file():
            try:
                overlay.source_texts[sid] = _squash(read_source_file(root, src.file).decode("utf-8-sig"))
            except Exception as exc:  # refused or undecodable: said, and no quote checked against it
                errors.append(CaseError(_display(root, src.file), 1, 1, "", f"未脱敏原文无法读取：{exc}。"
                                        "提示：原文放在内部数据目录的 sources/ 下，UTF-8 编码的普通文件"))

    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".yaml", ".yml") and ".git" not in p.parts)
    if not files:
        errors.append(CaseError(str(root), 1, 1, "", "内部数据目录中没有 .yaml 文件。"
                                "提示：先运行 casebook overlay init 目录 生成骨架，再填写真实数值"))
    for path in files:
        rel = path.relative_to(root).as_posix()
        from .validate import display_path

        display = display_path(path)
        if path.is_symlink() or not path.is_file():
            errors.append(CaseError(display, 1, 1, "", "内部数据文件不能是符号链接或特殊文件。提示：放真实的 .yaml 文件"))
            continue
        if path.suffix != ".yaml":
            errors.append(CaseError(display, 1, 1, "", f"内部数据文件的扩展名应为 .yaml（这里是“{path.suffix}”）。"
                                    "提示：改名为与公开案例文件相同的 .yaml 文件名"))
            continue
        if rel not in owners:
            known = "、".join(sorted(owners)[:6])
            errors.append(CaseError(display, 1, 1, "", f"公开案例库中没有与“{rel}”对应的案例文件。"
                                    f"提示：内部数据文件与公开案例文件同名同位置（如 {known}）；文件改名后这里也要改"))
            continue
        owner, model = owners[rel]
        case_file = _display(book.root, rel)
        loaded, file_errors = load_file(path, display)
        errors += file_errors
        if loaded.data is None:
            continue
        try:
            data = OverlayFile.model_validate(loaded.data)
        except ValidationError as exc:
            errors += _model_errors(exc, OverlayFile, loaded)
            continue
        ck.errors = []
        _match_figures(overlay, book, loaded, data, owner, model, case_file, err, ck, _check_range)
        errors += ck.errors
        _match_names(overlay, loaded, data, owner, model, case_file, err)
    errors += index_problems(book, overlay)
    return overlay, sorted(set(errors), key=lambda e: (e.file, e.line, e.column, e.message))


def _match_figures(overlay: Overlay, book: Casebook, loaded: LoadedFile, data: OverlayFile, owner: str,
                   model: BaseModel, case_file: str, err: Any, ck: Any, check_range: Any) -> None:
    observations: list[Observation] = list(getattr(model, "observations", []))
    taken: dict[int, int] = {}
    for i, fig in enumerate(data.figures):
        loc: Path_ = ("figures", i)
        where = f"{loaded.display}:{loaded.pos(loc).line}"
        found = [j for j, obs in enumerate(observations)
                 if obs.indicator == fig.indicator
                 and (fig.quote is None or _squash(obs.quote or "") == _squash(fig.quote))
                 and (fig.scope is None or (obs.scope or "") == fig.scope)
                 and (fig.period is None or (obs.period or "") == fig.period)
                 # A year tells figures of one indicator apart; a masked one is what is filled in.
                 and (fig.year is None or fig.year == DESENSITISED or obs.year in (DESENSITISED, None)
                      or obs.year == fig.year)]
        if not found:
            err(loaded, loc, f"在公开案例文件 {case_file} 中找不到对应的数据（指标 {fig.indicator}"
                             f"{'，原文“' + fig.quote + '”' if fig.quote else ''}）。"
                             "提示：indicator、quote、scope、period 照抄公开案例文件中那条数据；公开文件改过时，"
                             "重新运行 casebook overlay init 到新目录对照")
            continue
        if len(found) > 1:
            lines = "、".join(str(j + 1) for j in found)
            err(loaded, loc, f"对上了公开案例文件 {case_file} 中的 {len(found)} 条数据（第 {lines} 条）。"
                             "提示：照抄那条数据的 quote（或 scope、period）以区分")
            continue
        j = found[0]
        if j in taken:
            err(loaded, loc, f"与本文件第 {taken[j] + 1} 条对应同一条公开数据。提示：删去重复的一条")
            continue
        taken[j] = i
        obs = observations[j]
        public_masked = obs.value is not None and obs.value.value == DESENSITISED
        year_masked = obs.year == DESENSITISED
        if not public_masked and not year_masked:
            err(loaded, loc, f"公开案例文件中的这条数据（{_describe_obs(obs)}）没有脱敏，内部数据无须再写。提示：删去这一条")
            continue
        ind = book.indicators[obs.indicator]
        value: ParsedFigure | None = None
        fv = fig.value
        if fv is not None and fv.value != DESENSITISED:
            if not public_masked:
                err(loaded, (*loc, "value"), "公开数据的数值不是 *，这里只能补年份。提示：删去 value")
                continue
            unit = fig.unit or fv.unit or obs.unit or ind.unit
            if unit_family(unit) != unit_family(ind.unit):
                err(loaded, (*loc, "unit" if fig.unit else "value"), f"单位“{unit}”与指标“{ind.name}”的单位“{ind.unit}”不能换算。"
                                             f"提示：按“{ind.unit}”或公开原文的单位填写")
                continue
            try:
                stored = in_catalogue_unit(fv.value, unit, ind.unit)
            except FigureError as exc:
                err(loaded, (*loc, "value"), f"{exc.message}。提示：{exc.hint}")
                continue
            before = len(ck.errors)
            check_range(ck, loaded, loc, stored, ind, OverlayFile)
            if len(ck.errors) > before:
                continue
            qualifier = fv.qualifier or fig.qualifier or obs.qualifier
            value = ParsedFigure(convert(fv.value, unit, ind.unit), ind.unit, qualifier)
        year: int | None = None
        if fig.year is not None and fig.year != DESENSITISED and obs.year != fig.year:
            if not year_masked:
                err(loaded, (*loc, "year"), f"公开数据的年份是“{year_text(obs.year)}”，不是 *。提示：删去 year")
                continue
            year = int(fig.year)
        if fig.real_quote is not None:
            if obs.quote and unmask(obs.quote, fig.real_quote) is None:
                err(loaded, (*loc, "real_quote"), f"未脱敏原文“{fig.real_quote}”与公开原文“{obs.quote}”对不上："
                                                  "除 * 处外应一字不差。提示：照抄未脱敏材料中的这句话")
                continue
            if value is not None:
                problem = check_quote(value.value, ind.unit, ind.unit, value.qualifier, fig.real_quote)
                if problem:
                    err(loaded, (*loc, "value"), problem.message)
                    continue
            text = overlay.source_texts.get((obs.source or "").split("/")[0]) or next(iter(overlay.source_texts.values()), None)
            if text is not None and _squash(fig.real_quote) not in text:
                err(loaded, (*loc, "real_quote"), f"未脱敏原文中找不到“{fig.real_quote}”。提示：逐字照抄未脱敏材料")
                continue
        if fig.disclosure != "masked" and value is None:
            err(loaded, (*loc, "disclosure"), f"公开方式是 {fig.disclosure}，却还没有填写真实数值。"
                                              "提示：先填写 value，或把 disclosure 改回 masked")
            continue
        name = book.indicators[obs.indicator].name
        label = f"{name}（{case_file}，{_describe_obs(obs)}）"
        overlay.figures.append(FigureFill(case_file, owner, j, where, label, obs.indicator, value, year,
                                          fig.real_quote, fig.disclosure, fig.note))


def _match_names(overlay: Overlay, loaded: LoadedFile, data: OverlayFile, owner: str, model: BaseModel,
                 case_file: str, err: Any) -> None:
    texts = [(dotted(loc), text) for loc, text in strings(model) if DESENSITISED in text]
    seen: dict[tuple[str, str | None], int] = {}
    for i, name in enumerate(data.names):
        loc: Path_ = ("names", i)
        where = f"{loaded.display}:{loaded.pos(loc).line}"
        if DESENSITISED not in name.masked:
            err(loaded, (*loc, "masked"), f"公开写法“{name.masked}”中没有 *，不是脱敏的名称。提示：照抄公开案例文件中含 * 的写法")
            continue
        key = (_squash(name.masked), name.field)
        if key in seen:
            err(loaded, loc, f"与本文件第 {seen[key] + 1} 条是同一个公开写法。"
                             "提示：删去重复的一条；同一写法指不同地方时，用 field 写明各自的字段")
            continue
        seen[key] = i
        fields = [f for f, text in texts if _squash(name.masked) in _squash(text)
                  and (name.field is None or f == name.field or f.startswith((name.field + ".", name.field + "[")))]
        if not fields:
            where_hint = f"字段 {name.field} 中" if name.field else ""
            err(loaded, (*loc, "masked"), f"公开案例文件 {case_file} {where_hint}没有“{name.masked}”这个写法。"
                                          "提示：照抄公开案例文件中的写法（含 *）；公开文件改过时，重新运行 casebook overlay init 对照")
            continue
        filled = _squash(name.real) != _squash(name.masked)
        pieces: list[str] = []
        if filled:
            got = unmask(name.masked, name.real)
            if got is None:
                err(loaded, (*loc, "real"), f"真实写法“{name.real}”与公开写法“{name.masked}”对不上：除 * 处外应一字不差。"
                                            "提示：只把 * 换成真实的文字")
                continue
            if any(DESENSITISED in p for p in got):
                err(loaded, (*loc, "real"), "真实写法中还有 *。提示：把每个 * 都换成真实的文字；还不知道的整条保留公开写法")
                continue
            pieces = got
        overlay.names.append(NameFill(case_file, owner, where, name.masked, name.real, name.field, filled, pieces))


# --------------------------------------------------------------------------- the two editions


def _owner_model(book: Casebook, owner: str) -> BaseModel | None:
    kind, _, ident = owner.partition(":")
    if kind == "cluster":
        return book.clusters.get(ident)
    if kind == "lesson":
        return book.lessons.get(ident)
    return book.alliance


def _copy_book(book: Casebook) -> Casebook:
    out = copy.copy(book)
    out.clusters = {k: v.model_copy(deep=True) for k, v in book.clusters.items()}
    out.lessons = {k: v.model_copy(deep=True) for k, v in book.lessons.items()}
    out.alliance = book.alliance.model_copy(deep=True) if book.alliance is not None else None
    return out


def _replace_text(obj: Any, loc: Path_, fills: list[NameFill]) -> Any:
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            if name == "note":
                # A note says what the source wrote ("原文写作“*省*市*区”"): unmasked it would misquote.
                continue
            value = getattr(obj, name)
            new = _replace_text(value, (*loc, name), fills)
            if new is not value:
                object.__setattr__(obj, name, new)
        return obj
    if isinstance(obj, list):
        items = [_replace_text(item, (*loc, i), fills) for i, item in enumerate(obj)]
        return items if any(a is not b for a, b in zip(items, obj, strict=True)) else obj
    if isinstance(obj, str) and DESENSITISED in obj:
        here = dotted(loc)
        text = obj
        for fill in fills:  # field-specific first, then the longest masked text first
            if fill.field_path is not None and not (here == fill.field_path or here.startswith((fill.field_path + ".", fill.field_path + "["))):
                continue
            if fill.masked in text:
                text = text.replace(fill.masked, fill.real)
        return text
    return obj


def _ordered_fills(fills: list[NameFill]) -> list[NameFill]:
    return sorted(fills, key=lambda f: (f.field_path is None, -len(f.masked)))


def internal_book(book: Casebook, overlay: Overlay) -> Casebook:
    """The internal edition's casebook: real values, years and quotes, and real names."""
    out = _copy_book(book)
    for fill in overlay.figures:
        model = _owner_model(out, fill.owner)
        if model is None:
            continue
        obs: Observation = model.observations[fill.index]  # type: ignore[attr-defined]
        if fill.value is not None:
            obs.value, obs.unit = fill.value, fill.value.unit
        if fill.year is not None:
            obs.year = fill.year
        if fill.real_quote is not None:
            obs.quote = fill.real_quote
        if fill.note:
            obs.note = f"{obs.note}；{fill.note}" if obs.note else fill.note
    by_owner: dict[str, list[NameFill]] = {}
    for name in overlay.names:
        if name.filled:
            by_owner.setdefault(name.owner, []).append(name)
    for owner, fills in by_owner.items():
        model = _owner_model(out, owner)
        if model is not None:
            _replace_text(model, (), _ordered_fills(fills))
    return out


def public_book(book: Casebook, overlay: Overlay | None) -> Casebook:
    """The public edition's casebook: as published, plus the figures the owner chose to disclose
    (``public``: the value; ``index``: an index over the series' base year, never the amount)."""
    if overlay is None or not any(f.disclosure != "masked" for f in overlay.figures):
        return book
    out = _copy_book(book)
    for fill in overlay.figures:
        model = _owner_model(out, fill.owner)
        if model is None or fill.value is None:
            continue
        obs: Observation = model.observations[fill.index]  # type: ignore[attr-defined]
        if fill.disclosure == "public":
            obs.value, obs.unit = fill.value, fill.value.unit
            if fill.year is not None:
                obs.year = fill.year
    for fill, (index, base) in index_series(book, overlay).items():
        model = _owner_model(out, fill.owner)
        if model is not None:
            obs = model.observations[fill.index]  # type: ignore[attr-defined]
            obs.note = (f"{obs.note}；" if obs.note else "") + f"指数 {_index_text(index)}（{base}年=100）"
            fill.index_value = (index, base)
    return out


def _index_text(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.1')):f}"


def index_series(book: Casebook, overlay: Overlay) -> dict[FigureFill, tuple[Decimal, int]]:
    """Each index-disclosed figure's index: its series is the figures of one owner, indicator,
    scope and period disclosed as an index; the base is the earliest year among them."""
    series: dict[tuple[str, str, str | None, str | None], list[tuple[int, FigureFill]]] = {}
    for fill in overlay.figures:
        if fill.disclosure != "index" or fill.value is None:
            continue
        model = _owner_model(book, fill.owner)
        obs: Observation = model.observations[fill.index]  # type: ignore[union-attr]
        year = fill.year if fill.year is not None else obs.year
        if not isinstance(year, int):
            continue
        series.setdefault((fill.owner, fill.indicator, obs.scope, obs.period), []).append((year, fill))
    out: dict[FigureFill, tuple[Decimal, int]] = {}
    for points in series.values():
        points.sort(key=lambda p: p[0])
        base_year, base = points[0][0], points[0][1].value
        assert base is not None
        if not isinstance(base.value, Decimal) or base.value == 0:
            continue
        for _year, fill in points:
            assert fill.value is not None and isinstance(fill.value.value, Decimal)
            out[fill] = (fill.value.value / base.value * 100, base_year)
    return out


def index_problems(book: Casebook, overlay: Overlay) -> list[CaseError]:
    """Index-disclosed figures that cannot be shown as an index (no year, a zero base)."""
    shown = index_series(book, overlay)
    out = []
    for f in overlay.figures:
        if f.disclosure == "index" and f.value is not None and f not in shown:
            file, _, line = f.entry.rpartition(":")
            out.append(CaseError(file, int(line), 5, "disclosure", f"{f.label} 的公开方式是 index，但它没有年份"
                                 "（或同一序列最早一年的数值为 0），无法换算成以基年为 100 的指数。"
                                 "提示：填写 year，或把 disclosure 改为 masked", "公开方式"))
    return out


# --------------------------------------------------------------------------- the skeleton


def _yaml_text(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def skeleton(book: Casebook, rel: str, owner: str, model: BaseModel) -> str | None:
    """One overlay file's skeleton: every desensitised figure and every masked text of a public
    case file, with value '*' (and year '*' where it is masked) for the owner to replace."""
    from .validate import field_info

    depth = "../" * rel.count("/")
    lines = [f"# yaml-language-server: $schema={depth}{SCHEMA_FILE}",
             f"# 内部数据：{rel} 的真实数值和名称（{INTERNAL_MARK}，不得提交到公开仓库）。",
             "# 把 value 的 '*' 换成真实数值（按 quote 的单位），year 的 '*' 换成真实年份；",
             "# 把 real 换成未脱敏的写法（除 * 处外一字不差）。还不知道的保持原样，内部版照旧显示 *。",
             "# disclosure：masked 公开版显示 *（默认）；public 公开版显示真实数值；index 公开版只显示指数（基年=100）。"]
    figures = []
    for obs in getattr(model, "observations", []):
        masked_value = obs.value is not None and obs.value.value == DESENSITISED
        if not masked_value and obs.year != DESENSITISED:
            continue
        ind = book.indicators.get(obs.indicator)
        entry = [f"  # {ind.name if ind else obs.indicator}（单位：{obs.unit or (ind.unit if ind else '')}）",
                 f"  - indicator: {obs.indicator}"]
        if obs.quote:
            entry.append(f"    quote: {_yaml_text(obs.quote)}")
        if obs.scope:
            entry.append(f"    scope: {_yaml_text(obs.scope)}")
        if obs.period:
            entry.append(f"    period: {_yaml_text(obs.period)}")
        if isinstance(obs.year, int):
            entry.append(f"    year: {obs.year}  # 公开的年份，用来找到这条数据，不要改")
        if masked_value:
            entry.append("    value: '*'")
        if obs.quote:
            entry.append(f"    # real_quote: {_yaml_text(obs.quote)}  # 可选：未脱敏的原文")
        if obs.year == DESENSITISED:
            entry.append("    year: '*'")
        entry.append("    disclosure: masked")
        figures.append("\n".join(entry))
    names: dict[str, list[str]] = {}
    # The source's own words (names, terms, quotes); narrative fields, written afresh, take the
    # real names from these where they repeat them.
    for loc, text, _ in iter_verbatim(model):
        if DESENSITISED in text and loc[0] != "observations":
            title, _, _ = field_info(type(model), loc)
            names.setdefault(text, [])
            if title and title not in names[text]:
                names[text].append(title)
    if not figures and not names:
        return None
    if figures:
        lines += ["", "figures:", *figures]
    else:
        lines += ["", "figures: []"]
    if names:
        lines += ["", "names:"]
        for text, titles in names.items():
            lines += [f"  # 见于：{'、'.join(titles) or '正文'}",
                      f"  - masked: {_yaml_text(text)}", f"    real: {_yaml_text(text)}"]
    else:
        lines += ["", "names: []"]
    return "\n".join(lines) + "\n"


README = """# 内部数据（{mark}）

这个目录存放公开案例库中脱敏（*）内容的真实数值和名称，只供内部版使用，**不得提交到公开仓库**。

- 每个文件与公开案例库 `cases/` 中同名同位置的案例文件对应。
- `figures`：把 `value: '*'` 换成真实数值，`year: '*'` 换成真实年份；`disclosure` 决定公开版怎样显示。
- `names`：把 `real` 换成未脱敏的写法，除 * 处外一字不差。
- 可选：把未脱敏的原文放在 `sources/` 下（与公开原文同名），`real_quote` 会逐字核对。

常用命令（在公开仓库的项目目录中运行）：

    casebook check --overlay 本目录            # 校验内部数据
    casebook build --overlay 本目录            # 生成内部版网站（site-internal/）
    casebook build --leak-check 本目录         # 生成公开版，并证明其中没有任何内部数据
    casebook writeup --overlay 本目录 --out 经验材料-内部资料.docx
"""


def init_overlay(target: Path, book: Casebook) -> tuple[list[Path], list[Path]]:
    """Write the skeleton into ``target``: (written, left as they were). Never overwrites."""
    written: list[Path] = []
    kept: list[Path] = []
    target.mkdir(parents=True, exist_ok=True)
    from .schema import dumps, overlay_schema

    # The schema beside the files: completion and hover help in the owner's editor, as editors have.
    todo: list[tuple[Path, str]] = [(target / "README.md", README.format(mark=INTERNAL_MARK)),
                                    (target / SCHEMA_FILE, dumps(overlay_schema()))]
    for rel, (owner, model) in sorted(_owners(book).items()):
        text = skeleton(book, rel, owner, model)
        if text is not None:
            todo.append((target / rel, text))
    for path, text in todo:
        if path.exists():
            kept.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8") as fh:  # "x": never over a file made meanwhile
            fh.write(text)
        written.append(path)
    return written, kept


# --------------------------------------------------------------------------- what must never leak


def secrets(book: Casebook, overlay: Overlay) -> list[Any]:
    """Everything the overlay holds that the public edition must not: filled-in values and years
    (unless disclosed as public) and the real text of every '*' of a filled-in name."""
    from .leaks import Secret

    out: list[Secret] = []
    for fill in overlay.figures:
        if fill.disclosure == "public":
            continue
        if fill.value is not None and isinstance(fill.value.value, Decimal):
            out.append(Secret("figure", fill.entry, fill.case_file, fill.label, value=fill.value.value,
                              unit=fill.value.unit or ""))
        if fill.year is not None:
            out.append(Secret("year", fill.entry, fill.case_file, f"{fill.label}的年份", text=str(fill.year)))
        if fill.real_quote:
            public = _public_quote(book, fill)
            for piece in (unmask(public, fill.real_quote) or []) if public else []:
                out += _piece_secrets(piece, fill, public or "")
    for name in overlay.names:
        if name.filled:
            out += _name_secrets(name)
    return out


def public_texts(book: Casebook) -> list[str]:
    """The public source documents' text: what they state is not the overlay's to keep secret."""
    from .validate import read_source_file

    out: list[str] = []
    for src in book.sources.values():
        if src.file:
            try:
                out.append(read_source_file(book.root, src.file).decode("utf-8-sig"))
            except Exception:  # a refused or unreadable file was reported by check already
                continue
    return out


def _public_quote(book: Casebook, fill: FigureFill) -> str | None:
    model = _owner_model(book, fill.owner)
    return model.observations[fill.index].quote if model is not None else None  # type: ignore[attr-defined]


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _piece_secrets(piece: str, fill: FigureFill, masked: str) -> list[Any]:
    from .leaks import Secret

    # A number in an unmasked quote is the figure (or its year), already a secret; other text is a name.
    if _NUMBER.fullmatch(piece) or not piece.strip():
        return []
    return [Secret("name", fill.entry, fill.case_file, f"{fill.label}原文中的“{masked}”", text=piece)]


def _name_secrets(name: NameFill) -> list[Any]:
    """The real text of each '*' with the public text's characters next to it (青 of *山镇 is
    searched as 青山镇: one character alone would be found everywhere)."""
    from .leaks import Secret

    parts = _squash(name.masked).split(DESENSITISED)
    out: list[Secret] = []
    for i, piece in enumerate(name.pieces):
        before = re.sub(r".*[^\w]", "", parts[i])[-2:]
        after = re.sub(r"[^\w].*", "", parts[i + 1])[:2]
        label = f"“{name.masked}”的真实写法"
        if _NUMBER.fullmatch(piece):
            if after.startswith("年") and len(piece) == 4:
                out.append(Secret("year", name.entry, name.case_file, label, text=piece))
            else:
                out.append(Secret("name", name.entry, name.case_file, label, text=piece + after[:1]))
            continue
        out.append(Secret("name", name.entry, name.case_file, label, text=before + piece + after))
        if len(piece) >= 3:
            out.append(Secret("name", name.entry, name.case_file, label, text=piece))
    return [s for s in out if len(s.text) >= 2]


def edition_of(overlay: Path | None) -> EditionName:
    return "internal" if overlay is not None else "public"


# --------------------------------------------------------------------------- what is filled in


def fill_report(book: Casebook, overlay: Overlay, fmt: str = "markdown") -> str:
    """Which masked figures and names the overlay fills in and which are still '*', by case file.
    Names what they are, never a value: it is written for the public repository's pull requests."""
    import json

    rows: list[dict[str, Any]] = []
    for fill in overlay.figures:
        rows.append({"file": fill.case_file, "kind": "figure", "what": fill.label,
                     "filled": fill.value is not None or fill.year is not None, "disclosure": fill.disclosure})
    for name in overlay.names:
        rows.append({"file": name.case_file, "kind": "name", "what": f"“{name.masked}”", "filled": name.filled,
                     "disclosure": "masked"})
    if fmt == "json":
        return json.dumps({"edition": "internal", "rows": rows}, ensure_ascii=False, indent=2)
    n = overlay.counts()
    lines = ["## 内部版数据填写情况", "",
             f"脱敏数据 {n['figures']} 项，已填写 {n['figures_filled']} 项，仍待填写 {n['figures'] - n['figures_filled']} 项；"
             f"脱敏名称 {n['names']} 个，已填写 {n['names_filled']} 个，仍待填写 {n['names'] - n['names_filled']} 个。",
             "", "（只列名目，不含任何真实数值或名称，可以贴到公开的合并请求中。）", ""]
    for title, want in (("仍待填写", False), ("已填写", True)):
        chosen = [r for r in rows if r["filled"] == want]
        lines += [f"### {title}（{len(chosen)}）", ""]
        if chosen:
            lines += ["| 文件 | 类型 | 项目 | 公开方式 |", "|---|---|---|---|"]
            for r in chosen:
                what = _md_cell(r["what"])
                lines.append(f"| {_md_cell(r['file'])} | {'数据' if r['kind'] == 'figure' else '名称'} | {what} | "
                             f"{DISCLOSURE_LABELS[r['disclosure']] if r['kind'] == 'figure' else '—'} |")
        else:
            lines.append("（无）")
        lines.append("")
    return "\n".join(lines)


def _md_cell(text: str) -> str:
    # Case text in a pull-request comment: made inert as the diff's is (no markup, mentions, links).
    from .diff import _inert

    return _inert(text)
