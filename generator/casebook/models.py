"""The typed models of a casebook: one definition gives validation, the editors' JSON Schema
and the field reference. Every field carries a Chinese title and description because editors
see them as completion and hover help in their editor.

Case files use English snake_case keys and Chinese values. Names, slogans, formulas and terms are
facts quoted exactly from the source; ``description``/``summary`` fields are written afresh.
"""

from __future__ import annotations

import datetime as _dt
import typing
import unicodedata
import urllib.parse
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .figures import (
    DESENSITISED,
    QUALIFIER_ALIASES,
    QUALIFIER_PLACES,
    QUALIFIERS,
    UNITS,
    FigureError,
    ParsedFigure,
    parse_figure,
)

MIN_YEAR = 1949


def max_year() -> int:
    # Figures may describe the coming year (plans, targets) but not further.
    return _dt.date.today().year + 1


def F(title: str, description: str, default: Any = ..., **kw: Any) -> Any:
    """A field with the Chinese title and description every schema field must have."""
    return Field(default, title=title, description=description, **kw)


SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=64)]
SOURCE_REF_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*(?:/[a-z0-9]+(?:[-.][a-z0-9]+)*)?$"
SourceRef = Annotated[str, StringConstraints(pattern=SOURCE_REF_PATTERN, max_length=128)]


class Verbatim:
    """Marks a field whose text is quoted from the source and must appear there exactly."""


VERBATIM = Verbatim()
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Quote = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=400), VERBATIM]
Qualifier = Literal[QUALIFIERS]  # type: ignore[valid-type]
Unit = Literal[UNITS]  # type: ignore[valid-type]


# Kinds of error the models raise themselves: their messages are complete Chinese text with a
# 提示, shown to editors as they are (validate._translate passes them through).
REFUSAL_KINDS = frozenset({"figure", "year", "year_range", "link", "qualifier_conflict", "basis"})


def refuse(kind: str, message: str) -> PydanticCustomError:
    """An error whose message is final text, never a template. Pydantic fills ``{name}`` in a
    message from the context it is given, so a context carrying editors' text (a value written
    as ``{hint}``) would be expanded; with no context the message is shown exactly as built."""
    assert kind in REFUSAL_KINDS
    return PydanticCustomError(kind, message)


def _parse_value(raw: Any) -> Any:
    if isinstance(raw, ParsedFigure):
        return raw
    try:
        return parse_figure(raw)
    except FigureError as exc:
        raise refuse("figure", f"{exc.message}。提示：{exc.hint}") from None


def _parse_year(raw: Any) -> int | str:
    if isinstance(raw, bool) or raw is None or isinstance(raw, (list, dict)):
        raise refuse("year", "年份应为四位数字或带引号的 '*'。提示：如 2023；原文年份脱敏时写 '*'")
    text = unicodedata.normalize("NFKC", str(raw)).strip()
    if text == DESENSITISED:
        return DESENSITISED
    if text.endswith("年"):
        text = text[:-1]
    if not (text.isascii() and text.isdigit() and len(text) == 4):
        raise refuse("year", f"年份“{str(raw)[:40]}”无法识别。提示：写成四位数字（如 2023）；原文年份脱敏时写带引号的 '*'")
    year = int(text)
    if not MIN_YEAR <= year <= max_year():
        raise refuse("year_range", f"年份 {year} 超出范围。提示：年份应在 {MIN_YEAR}–{max_year()} 之间，请核对原文")
    return year


def _dump_value(fig: ParsedFigure | None) -> dict[str, str | None] | None:
    if fig is None:
        return None
    value = fig.value if isinstance(fig.value, str) else format(fig.value, "f")
    return {"value": value, "unit": fig.unit, "qualifier": fig.qualifier}


def _check_link(raw: Any) -> str:
    # Links in case files become <a href> on the site: only absolute http(s) URLs, nothing that a
    # browser could run (javascript:, data:) or resolve somewhere surprising (//host, relative).
    text = str(raw).strip() if raw is not None else ""
    parsed = urllib.parse.urlsplit(text)
    bad_chars = any(ch.isspace() or ord(ch) < 32 or ch in "<>\"'`\\" for ch in text)
    if parsed.scheme.lower() not in ("http", "https") or not parsed.netloc or bad_chars:
        raise refuse("link", f"链接“{text[:80]}”不可用。提示：只能写以 http:// 或 https:// 开头的完整网址，不含空格和引号")
    return text


Link = Annotated[str, PlainValidator(_check_link),
                 WithJsonSchema({"type": "string", "pattern": "^https?://", "format": "uri"})]

FigureValue = Annotated[
    ParsedFigure | None,
    PlainValidator(_parse_value),
    PlainSerializer(_dump_value),
    WithJsonSchema({
        "anyOf": [{"type": "number"}, {"type": "string", "minLength": 1}, {"type": "null"}],
        "examples": [1200, "3.2亿元", "*"],
    }),
]
Year = Annotated[
    int | Literal["*"],
    PlainValidator(_parse_year),
    WithJsonSchema({
        "anyOf": [{"type": "integer", "minimum": MIN_YEAR}, {"const": "*"}],
        "examples": [2023, "*"],
    }),
]


class Base(BaseModel):
    # Unknown keys are errors: a typo must never be silently ignored.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=False)


# Whether a name, a label or a link is the source's own or the editors' choice. The source states
# facts; calling one of them a "model", or linking a lesson to a cluster, may be the editors' reading,
# and a reader must be able to tell the two apart wherever it shows (present.BASIS_MARKS).
Basis = Literal["source", "editorial"]


def basis_field(source_means: str, editorial_means: str) -> Any:
    return F("依据", f"source：{source_means}；editorial：{editorial_means}，并在 reason 中说明理由。"
                     "省略时为 source。网站上凡显示编者拟定或关联的地方都会标出。", "source")


def reason_field(what: str) -> Any:
    return F("编者说明", f"basis 为 editorial 时必填：{what}", None)


class Attributed(Base):
    """A model with a ``basis`` (and a ``reason``, required when the basis is editorial). The two
    fields are declared by each subclass, after its own fields, with :func:`basis_field`."""

    @model_validator(mode="after")
    def _editorial_has_reason(self) -> Attributed:
        if getattr(self, "basis", "source") == "editorial" and not getattr(self, "reason", None):
            raise refuse("basis", "basis 写的是 editorial（编者拟定或关联），却没有说明理由。"
                                  "提示：在这一项加上 reason: …，说明原文哪句话支持这样命名或关联")
        return self


# --------------------------------------------------------------------------- shared parts


class Term(Base):
    """A named thing quoted from the source (a brand, a scenario, a programme) and what it is."""

    name: Quote = F("名称", "原文中的名称，逐字照录（含原文的 * 号），如“初心之旅一张图”。")
    description: Text | None = F("说明", "用自己的话简要说明它是什么、做什么；不要粘贴原文段落。", None)


class Model(Attributed):
    """A development model a cluster (or the alliance) is known for, e.g. 四带共富."""

    id: Slug = F("标识", "英文小写短标识，全库唯一，如 four-belts。用于网址和交叉引用。")
    name: Quote = F("模式名称", "原文中的模式名称，逐字照录，如“四带共富”。")
    formula: Quote | None = F("模式内涵", "原文对模式的概括，逐字照录，如“党建带领、政府带动、企业带路、农民带地”。", None)
    description: Text = F("说明", "用自己的话说明这个模式怎样运作；原文没有说明做法时，如实写明只提及名称。")
    examples: list[Slug] = F("体现的事例", "体现这个模式的典型事例标识（联盟 examples 中的 id），如 hongxin；组团的模式一般不填。", [])
    source: SourceRef | None = F("来源", "出处，格式“文档标识/章节标识”；省略时沿用本文件的来源。", None)
    basis: Basis = basis_field("原文把它称为模式（如“‘四带共富’发展模式”）",
                               "原文没有把它称为模式或没有这个名称，由编者拟定")
    reason: Text | None = reason_field("原文怎样表述、编者为何把它列为模式。")


class Mechanism(Attributed):
    """A standing mechanism or institutional arrangement; lessons refer to it by id."""

    id: Slug = F("标识", "英文小写短标识，全库唯一，如 task-force。经验启示用它引用本机制。")
    name: Quote = F("机制名称", "原文中的名称，逐字照录，如“专班攻坚机制”。")
    description: Text = F("说明", "用自己的话说明机制由谁牵头、做什么。")
    terms: list[Quote] = F("原文术语", "与本机制相关、需逐字照录的短语，如“以‘赛’促‘建’”。", [])
    source: SourceRef | None = F("来源", "出处，格式“文档标识/章节标识”；省略时沿用本文件的来源。", None)
    basis: Basis = basis_field("原文把它称为机制、制度或架构（如“专班攻坚机制”）",
                               "原文没有把它称为机制，由编者归为机制")
    reason: Text | None = reason_field("原文怎样表述、编者为何把它列为机制。")


class Measure(Base):
    """One thing a cluster did, written afresh, with the exact terms it involves."""

    title: Text = F("举措标题", "简短标题；原文有小标题时逐字照录，如“农田建设强根基”。")
    description: Text = F("说明", "用自己的话说明做了什么、怎样做。")
    terms: list[Quote] = F("原文术语", "举措涉及、需逐字照录的名称和短语，如“非粮化”。", [])
    source: SourceRef | None = F("来源", "出处，格式“文档标识/章节标识”；省略时沿用本文件的来源。", None)


PartnerKind = Literal[
    "company", "state_company", "operator", "cooperative", "university", "bank",
    "platform", "media", "government", "social_organisation", "talent", "other",
]
PARTNER_KIND_LABELS: dict[str, str] = {
    "company": "企业", "state_company": "国有企业", "operator": "运营商", "cooperative": "合作社",
    "university": "高校与科研院所", "bank": "金融机构", "platform": "平台与机构", "media": "媒体",
    "government": "政府部门与单位", "social_organisation": "社会组织", "talent": "人才群体",
    "other": "其他",
}


class Partner(Base):
    """A company, co-op, university, bank, platform or medium that works with the cluster."""

    name: Quote = F("名称", "原文中的名称，逐字照录（含 * 号），如“*农林大学”“金惠粮油合作社”。")
    kind: PartnerKind = F(
        "类型",
        "合作方类型：company 企业，state_company 国有企业，operator 运营商，cooperative 合作社，"
        "university 高校与科研院所，bank 金融机构，platform 平台与机构，media 媒体，"
        "government 政府部门与单位，social_organisation 社会组织，talent 人才群体，other 其他。",
    )
    role: Text | None = F("作用", "用自己的话说明它在组团中做什么。", None)
    source: SourceRef | None = F("来源", "出处，格式“文档标识/章节标识”；省略时沿用本文件的来源。", None)


ProjectStatus = Literal["planned", "under_construction", "in_progress", "completed", "operating"]
PROJECT_STATUS_LABELS = {"planned": "规划中", "under_construction": "在建", "in_progress": "推进中",
                         "completed": "已建成", "operating": "已运营"}


class Project(Base):
    """A named project or facility."""

    name: Quote = F("项目名称", "原文中的名称，逐字照录，如“旷野公园”。")
    status: ProjectStatus | None = F(
        "进展", "planned 规划中，under_construction 在建，in_progress 推进中，completed 已建成，operating 已运营。", None)
    description: Text = F("说明", "用自己的话说明项目内容。")
    functions: list[Quote] = F("功能", "原文列出的功能，逐项照录，如“餐饮”“住宿”。", [])
    source: SourceRef | None = F("来源", "出处，格式“文档标识/章节标识”；省略时沿用本文件的来源。", None)


class Chain(Base):
    """An industry chain the source spells out step by step, drawn on the cluster's page."""

    name: Quote = F("名称", "原文中产业链的名称，逐字照录，如“竹笋全产业链条”。")
    steps: list[Quote] = F("环节", "原文列出的环节，按原文顺序逐项照录，如“挖竹笋”“品竹宴”。", min_length=2)
    source: SourceRef | None = F("来源", "出处，格式“文档标识/章节标识”；省略时沿用本文件的来源。", None)


class Statement(Base):
    """A statement quoted from the source (a line of the background, a principle) and where it is."""

    text: Quote = F("原文", "原文中的表述，逐字照录。")
    source: SourceRef | None = F("来源", "出处，格式“文档标识/章节标识”，如 writeup/intro；省略时沿用本文件的来源。", None)


class Milestone(Base):
    """A dated event, e.g. the year a cluster started."""

    year: Year | None = F("年份", "四位年份；原文年份脱敏时写带引号的 '*'；未知则省略。", None)
    event: Text = F("事件", "用自己的话说明发生了什么。")
    quote: Quote | None = F("原文", "原文中的对应短语，逐字照录，如“自*年启动创建”。", None)
    source: SourceRef | None = F("来源", "出处，格式“文档标识/章节标识”；省略时沿用本文件的来源。", None)


class Outcome(Base):
    """A result or recognition the source reports."""

    description: Text = F("成效", "用自己的话说明取得的成效。")
    terms: list[Quote] = F("原文术语", "成效涉及的称号、名称，逐字照录，如“国家级农村产业融合发展示范园”。", [])
    source: SourceRef | None = F("来源", "出处，格式“文档标识/章节标识”；省略时沿用本文件的来源。", None)


def _qualifier_help() -> str:
    # Built from figures.QUALIFIER_PLACES, so the editors' help lists exactly what check accepts.
    def words(place: str) -> str:
        return "、".join(q for q, p in QUALIFIER_PLACES.items() if p == place)

    # The words are set off by 【】, not spaces: a space between Chinese characters reads as a stray gap.
    aliases = "，".join(f"“{a}”写【{q}】" for a, q in QUALIFIER_ALIASES.items())
    return ("原文数值的限定词（约数、上下限），照原文填写："
            f"写在数前的【{words('before')}】（如“不足*人”写【不足】）；"
            f"写在数与单位之间的【{words('between')}】（如“*余万元”写【余】）；"
            f"写在单位之后的【{words('after')}】（如“*人以上”写【以上】）；{aliases}。")


QUALIFIER_HELP = _qualifier_help()


class Observation(Base):
    """One figure: an indicator's value for this cluster (or a named part of it) in a year."""

    indicator: Slug = F("指标", "指标目录（cases/indicators.yaml）中的指标标识，如 collective-income。")
    value: FigureValue = F(
        "数值",
        "按指标目录的单位填写的数字；可写带单位的文字（如 3.2亿元）由程序精确换算；"
        "原文脱敏（*）时写带引号的 '*'，绝不写 0；未知则省略。",
        None,
    )
    unit: Unit | None = F("单位", "可省略；填写时必须与指标目录一致，或可精确换算。", None)
    qualifier: Qualifier | None = F("限定词", QUALIFIER_HELP, None)
    year: Year | None = F("年份", "数值所属年份；原文年份脱敏时写带引号的 '*'；未注明则省略并在“时期”中说明。", None)
    period: Text | None = F("时期", "年份之外的时间说明，如“累计”“每年”“截至*年底”。", None)
    scope: Text | None = F("统计范围", "数值只涉及组团的一部分时写明，如“旷野公园”“*月乡组团”。", None)
    quote: Quote | None = F(
        "原文",
        "原文中的对应短语，逐字照录（含 *），如“水田面积*亩”。数值、单位和限定词都要与它一致："
        "原文写 * 时数值写 '*'（单位照原文，如 *亿元），原文给出数字时照写（可换算单位，如“3.2亿元”即“32000万元”）。",
        None)
    source: SourceRef | None = F("来源", "出处，格式“文档标识/章节标识”；省略时沿用本文件的来源。", None)
    note: Text | None = F("备注", "对数值的补充说明。", None)

    @model_validator(mode="after")
    def _fold_text(self) -> Observation:
        # A qualifier or unit written inside the value text (e.g. "*余万元") lands in its field;
        # if the editor also wrote the field, the two must agree.
        fig = self.value
        if fig is None:
            return self
        if fig.qualifier:
            if self.qualifier and self.qualifier != fig.qualifier:
                raise refuse("qualifier_conflict",
                             f"数值中的限定词“{fig.qualifier}”与 qualifier 字段“{self.qualifier}”不一致。"
                             "提示：只保留一处，并与原文一致")
            self.qualifier = fig.qualifier
        return self


# --------------------------------------------------------------------------- clusters


class Location(Base):
    """Where a cluster is. The source desensitises place names to *; keep them so."""

    district: Quote = F("区县", "原文写法，如“*区”。")
    town: Quote | None = F("乡镇", "原文写法，如“*山镇”。", None)
    village: Quote | None = F("村", "组团以一个村为核心时填写，如“*村”。", None)
    note: Text | None = F("补充", "其他位置说明，如海拔、地形。", None)
    source: SourceRef | None = F("来源", "位置写法的出处（如取自上一级章节），格式“文档标识/章节标识”；省略时沿用本文件的来源。",
                                 None)


class Cluster(Base):
    """A village cluster (组团): one file in cases/clusters/, named after its id."""

    id: Slug = F("标识", "英文小写短标识，与文件名一致，如 grain-store。用于网址，发布后不要改。")
    order: int | None = F("序号", "在首页和导航中的顺序（从 1 开始）；省略时排在有序号的组团之后，按标识排序。", None,
                          ge=1, le=9999)
    name: Quote = F("组团名称", "原文中的名称，逐字照录（含 *），如“源头共富”“*粮仓”。")
    theme: Quote = F("主题句", "原文中组团的主题句，逐字照录，如“描绘‘四带共富’产业融合新图景”。")
    summary: Text = F("概述", "用自己的话写两三句，说明组团是什么、靠什么发展。")
    location: Location = F("位置", "组团所在区县、乡镇和村。")
    villages: list[Quote] = F("村名", "原文点名的村，逐字照录，如“后营”；原文只给数量时留空，数量写在数据里。", [])
    industries: list[Quote] = F("主导产业", "原文列出的主导或特色产业，逐项照录，如“竹子”“茶叶”。", [])
    layout: list[Term] = F("空间布局", "原文中的空间结构布局，如“一心一线四村九园”，附说明。", [])
    patterns: list[Term] = F("发展格局", "原文中建设后形成的发展格局，如“一条线串珠成链，四个片联动发展，九小园精彩纷呈”，附说明。", [])
    chains: list[Chain] = F("产业链", "原文逐个列出环节的产业链，如“挖竹笋、品竹宴、游竹乡、购竹品”竹笋全产业链条；网站画成链条图。", [])
    models: list[Model] = F("发展模式", "组团的发展模式，如“四带共富”。", [])
    mechanisms: list[Mechanism] = F("机制", "组团的工作机制，如“政企村户”四方联结机制。", [])
    measures: list[Measure] = F("举措", "组团做了什么，一条一项。", [])
    partners: list[Partner] = F("合作方", "参与组团的企业、合作社、高校、金融机构、平台和媒体。", [])
    projects: list[Project] = F("项目", "组团中的具名项目和设施。", [])
    slogans: list[Quote] = F("口号与提法", "原文中的口号、提法，逐字照录，如“产业在山上、生活在村庄……”。", [])
    milestones: list[Milestone] = F("大事记", "有年份的事件。", [])
    outcomes: list[Outcome] = F("成效", "原文报告的成效与荣誉。", [])
    observations: list[Observation] = F("数据", "组团的各项数据，一条一个指标值；脱敏值写 '*'。", [])
    source: SourceRef = F("来源", "本文件内容的默认出处，格式“文档标识/章节标识”，如 writeup/part-2-grain-store。")


# --------------------------------------------------------------------------- alliance


class FrameworkMember(Base):
    role: Quote = F("角色", "在组织框架中的角色，如“总引擎”“主体”。")
    name: Quote = F("名称", "原文写法，逐字照录，如“区级‘*红盟’”。")
    description: Text | None = F("说明", "用自己的话说明。", None)


class Framework(Base):
    """The alliance's organisational framework, e.g. “*+*+*”."""

    formula: Quote = F("框架表述", "原文中的框架表述，逐字照录，如“*+*+*”。")
    description: Text = F("说明", "用自己的话说明框架的构成。")
    members: list[FrameworkMember] = F("组成", "框架的各组成部分。", [])


class Strand(Base):
    """A strand of resources the alliance gathers (talent, operating model, partnerships)."""

    id: Slug = F("标识", "英文小写短标识，全库唯一，如 talent-return。")
    title: Text = F("标题", "简短标题；原文有小标题时逐字照录，如“牵引人才回流服务乡村”。")
    description: Text = F("说明", "用自己的话说明这条路径做了什么。")
    terms: list[Quote] = F("原文术语", "需逐字照录的名称和提法，如“两进两回”。", [])
    source: SourceRef | None = F("来源", "出处，格式“文档标识/章节标识”；省略时沿用本文件的来源。", None)


class Example(Base):
    """A named example inside a strand, e.g. the “*月乡” alliance cluster."""

    id: Slug = F("标识", "英文小写短标识，全库唯一，如 yuexiang。")
    strand: Slug = F("所属路径", "本例所属路径的标识（见 strands）。")
    name: Quote = F("名称", "原文名称，逐字照录，如“*月乡”党建联盟组团。")
    place: Quote | None = F("所在地", "原文写法，如“*山镇”。", None)
    description: Text = F("说明", "用自己的话说明这个例子。")
    terms: list[Quote] = F("原文术语", "需逐字照录的名称和提法，如“城乡合伙人”。", [])
    source: SourceRef | None = F("来源", "出处，格式“文档标识/章节标识”；省略时沿用本文件的来源。", None)


class Alliance(Base):
    """The district-level party-building alliance: cases/alliance.yaml."""

    id: Slug = F("标识", "英文小写短标识，如 district-alliance。")
    name: Quote = F("名称", "联盟的名称或称谓，原文写法。")
    summary: Text = F("概述", "用自己的话写两三句，说明联盟是什么、做什么。")
    location: Location = F("位置", "联盟所在区县（原文脱敏为 *）。")
    parties: list[Quote] = F("共建各方", "原文列出的共建方，逐项照录，如“区”“镇”“村”“校”“企”。", [])
    community: Quote | None = F("共同体名称", "原文名称，如“新型帮共体”。", None)
    framework: Framework | None = F("组织框架", "联盟的组织框架。", None)
    background: list[Statement] = F("背景论述", "原文引言中引述的论述，逐字照录，如党的二十大报告的表述；每项注明出处。", [])
    principles: list[Statement] = F("工作方针", "原文中的方针提法，逐字照录；每项注明出处（引言或第二部分开头）。", [])
    milestones: list[Milestone] = F("大事记", "有年份的事件，如联盟建设的起始年份。", [])
    models: list[Model] = F("发展模式", "原文为联盟或其事例命名的模式，如“乡村经营新模式”。", [])
    digital_scenarios: list[Term] = F("数字化应用场景", "原文列出的应用场景，如“初心之旅一张图”。", [])
    digital_features: list[Measure] = F("数字化功能", "数字化管理的其他做法，如排行榜、并轨上线。", [])
    mechanisms: list[Mechanism] = F("长效机制", "联盟的长效运转机制。", [])
    strands: list[Strand] = F("资源路径", "联盟聚合资源的路径。", [])
    examples: list[Example] = F("典型事例", "各路径下原文点名的例子。", [])
    partners: list[Partner] = F("合作方", "与联盟合作的高校、银行等。", [])
    programmes: list[Term] = F("活动与产品", "原文中的活动和金融产品，如“十百千”活动、“共富贷”。", [])
    observations: list[Observation] = F("数据", "联盟层面的数据；只涉及某个例子时填写统计范围。", [])
    source: SourceRef = F("来源", "本文件内容的默认出处，格式“文档标识/章节标识”。")


# --------------------------------------------------------------------------- lessons


class Lesson(Attributed):
    """One lesson (经验启示): one file in cases/lessons/, named after its id."""

    id: Slug = F("标识", "英文小写短标识，与文件名一致，如 party-leadership。")
    order: int = F("序号", "在经验启示中的顺序，从 1 开始。", ge=1, le=99)
    title: Quote = F("标题", "原文中的启示标题句，逐字照录。")
    summary: Text = F("概述", "用自己的话概括这条启示的论证。")
    key_phrases: list[Quote] = F("原文要语", "启示中需逐字照录的提法，如“做大蛋糕”与“分好蛋糕”。", [])
    clusters: list[Slug] = F("体现的组团", "体现这条启示的组团标识，如 grain-store。", [])
    models: list[Slug] = F("体现的模式", "体现这条启示的发展模式标识（组团或联盟的 models），如 four-belts。", [])
    mechanisms: list[Slug] = F("体现的机制", "体现这条启示的机制标识（组团或联盟的 mechanisms），如 task-force。", [])
    strands: list[Slug] = F("体现的资源路径",
                            "体现这条启示的资源路径或典型事例标识（联盟的 strands、examples），如 talent-return。", [])
    source: SourceRef = F("来源", "出处，格式“文档标识/章节标识”。")
    basis: Basis = basis_field("原文指明了体现这条启示的组团和做法",
                               "原文未指明，组团、模式、机制和路径由编者关联")
    reason: Text | None = reason_field("说明这些组团、模式、机制和路径为何体现这条启示。")

    @property
    def refs(self) -> list[tuple[str, int, str]]:
        """Every linked model, mechanism and strand (or example): (field, index, id)."""
        return [(name, i, ref) for name in LESSON_REF_KINDS for i, ref in enumerate(getattr(self, name))]


# Which kinds of linkable each of a lesson's link fields takes (derive.Linkable.kind).
LESSON_REF_KINDS: dict[str, tuple[str, ...]] = {
    "models": ("Model",), "mechanisms": ("Mechanism",), "strands": ("Strand", "Example")}
# The lesson page's headings for them: the fields' own titles (体现的模式 …).
LESSON_REF_LABELS = {name: str(Lesson.model_fields[name].title) for name in LESSON_REF_KINDS}
LINKABLE_LABELS = {"Model": "发展模式", "Mechanism": "机制", "Strand": "资源路径", "Example": "典型事例"}


# --------------------------------------------------------------------------- catalogue and sources

Direction = Literal["higher_is_better", "lower_is_better", "neutral"]
DIRECTION_LABELS = {"higher_is_better": "越高越好", "lower_is_better": "越低越好", "neutral": "中性"}
Category = Literal[
    "basics", "collective_economy", "income", "land", "industry", "investment",
    "employment", "ecommerce", "finance", "talent", "organisation",
]
CATEGORY_LABELS = {
    "basics": "基本情况", "collective_economy": "集体经济", "income": "农民增收", "land": "土地",
    "industry": "产业", "investment": "投资", "employment": "就业", "ecommerce": "电商",
    "finance": "金融", "talent": "人才", "organisation": "组织建设",
}


class Indicator(Base):
    """An entry of the indicator catalogue."""

    id: Slug = F("标识", "英文小写短标识，全库唯一，如 collective-income。")
    name: Text = F("指标名称", "中文名称，如“村集体经济经营性收入”。")
    unit: Unit = F("单位", "数值的单位；所有数据按此单位填写或可精确换算。")
    definition: Text = F("定义", "指标的含义和统计口径。")
    direction: Direction = F("方向", "higher_is_better 越高越好，lower_is_better 越低越好，neutral 中性（规模类）。")
    # Sanity bounds in the indicator's own unit; negativity of counts, areas and money is refused
    # from the unit family (figures.SIGNED_FAMILIES), so these matter most for % and 米.
    min: int | None = F(
        "下限",
        "数值允许的最小值，按本指标的单位，如占比、增幅的 0 或 -100；省略则不设下限。"
        "个数、面积、金额等本来不能为负的单位，程序已拒绝负数，无须再写 0。",
        None, ge=-(10**15), le=10**15)
    max: int | None = F(
        "上限",
        "数值允许的最大值，按本指标的单位，如占比的 100；省略则不设上限。原文确实超出时再放宽。",
        None, ge=-(10**15), le=10**15)
    headline: bool = F("首页显示", "true 时，组团有这项数据就显示在首页的组团卡片上（最多三项）。", False)
    category: Category = F(
        "类别",
        "basics 基本情况，collective_economy 集体经济，income 农民增收，land 土地，industry 产业，"
        "investment 投资，employment 就业，ecommerce 电商，finance 金融，talent 人才，organisation 组织建设。",
    )


class IndicatorCatalogue(Base):
    """cases/indicators.yaml."""

    indicators: list[Indicator] = F("指标目录", "全部指标，一项一个。", min_length=1)


class Section(Base):
    id: Slug = F("标识", "章节的英文小写短标识，如 part-2-grain-store。")
    title: Quote = F("章节", "原文中的章节标题或段落开头，逐字照录。章节从它在原文中（上一章节开头之后）第一次出现处开始。")
    end: Quote | None = F(
        "章节结尾",
        "本章节最后一句话的结尾几个字，逐字照录，如“累计帮助节省利息支出超*万元。”。省略时章节延续到下一章节开头"
        "（不超出上级章节）。含下级章节的章节（下级章节在它的结尾之前开始）和最后一个章节应填写。",
        None)


class Source(Attributed):
    id: Slug = F("标识", "文档的英文小写短标识，如 writeup。")
    title: Text = F("题名", "文档题名；原文无题名时由编者拟定，basis 写 editorial 并在 reason 中说明。")
    kind: Text = F("文献类型", "如“经验材料”。")
    publisher: Quote | None = F("发布单位", "原文写法（可能脱敏为 *）。", None)
    date: _dt.date | None = F("日期", "发布日期，格式 YYYY-MM-DD；未知则省略。", None)
    file: Text | None = F("文件", "原文文本文件的位置，相对于案例目录，如 sources/writeup.txt。", None)
    url: Link | None = F("网址", "原文的网址，只能以 http:// 或 https:// 开头。", None)
    note: Text | None = F("备注", "脱敏情况等说明。", None)
    sections: list[Section] = F("章节", "文档的章节，按原文顺序排列，供数据引用；引文只在所注章节（含其下级章节）中查找。", [])
    basis: Basis = basis_field("题名照录原文", "原文无题名，题名由编者拟定")
    reason: Text | None = reason_field("说明题名从何而来。")


class SourceList(Base):
    """cases/sources.yaml."""

    sources: list[Source] = F("来源文档", "全部来源文档。", min_length=1)


Span = tuple[int, int]


def locate_sections(text: str, sections: list[Section],
                    squash: typing.Callable[[str], str]) -> tuple[dict[str, Span], list[tuple[int, str, str]]]:
    """Where each section lies in its document's ``text`` (already squashed with ``squash``), and
    the problems found: (section index, field, Chinese message).

    A section starts where its title first occurs after the previous section's start (sections
    are listed in the source's order), and ends after its ``end`` when one is given; otherwise
    where the next section starts, and never beyond a section that encloses it. So a section with
    an ``end`` holds the sections listed after it that start before that end (its sub-sections),
    and text after the last ``end`` belongs to the document only."""
    starts: list[int | None] = []
    problems: list[tuple[int, str, str]] = []
    pos = 0
    for i, sec in enumerate(sections):
        title = squash(sec.title)
        at = text.find(title, pos) if title else -1
        if at < 0 and title and title in text:
            problems.append((i, "title", f"章节“{sec.title}”在原文中出现在上一章节开头之前。"
                                         "提示：sections 按原文顺序排列；标题在原文中出现多次时，写到能区分的长度"))
        starts.append(at if at >= 0 else None)  # a title missing from the text is a verbatim error already
        if at >= 0:
            pos = at
    spans: dict[str, Span] = {}
    for i, sec in enumerate(sections):
        start = starts[i]
        if start is None or sec.id in spans:
            continue
        end = next((s for s in starts[i + 1:] if s is not None and s > start), len(text))
        for outer_start, outer_end in spans.values():
            if outer_start <= start < outer_end:
                end = min(end, outer_end)
        if sec.end:
            tail = squash(sec.end)
            at = text.find(tail, start)
            if at < 0:
                problems.append((i, "end", f"在章节“{sec.title}”开头之后找不到结尾“{sec.end}”。"
                                           "提示：end 写本章节最后一句话的结尾几个字，与原文逐字一致"))
            else:
                end = at + len(tail)
        spans[sec.id] = (start, end)
    return spans, problems


def sections_of(spans: dict[str, Span], text: str, needle: str) -> list[str]:
    """The innermost section around each occurrence of ``needle`` in ``text``, in the text's order
    and without repeats; an occurrence outside every section adds nothing."""
    found: list[str] = []
    at = text.find(needle)
    while at >= 0:
        around = [(end - start, sid) for sid, (start, end) in spans.items() if start <= at and at + len(needle) <= end]
        if around:
            sid = min(around)[1]
            if sid not in found:
                found.append(sid)
        at = text.find(needle, at + 1)
    return found


# The kinds of case file, by where the file lives (see loader.file_kind).
FILE_MODELS: dict[str, type[Base]] = {
    "cluster": Cluster,
    "lesson": Lesson,
    "alliance": Alliance,
    "indicators": IndicatorCatalogue,
    "sources": SourceList,
}
KIND_LABELS = {"cluster": "组团", "lesson": "经验启示", "alliance": "党建联盟",
               "indicators": "指标目录", "sources": "来源"}



def _is_verbatim(annotation: Any, metadata: list[Any]) -> bool:
    if VERBATIM in metadata:
        return True
    return any(VERBATIM in getattr(arg, "__metadata__", ()) or _is_verbatim(arg, [])
               for arg in typing.get_args(annotation))


def iter_verbatim(model: BaseModel, loc: tuple[str | int, ...] = (), source: str | None = None):
    """Yield (loc, text, source) for every verbatim field value, with the source that applies to it."""
    source = getattr(model, "source", None) or source
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        if value is None:
            continue
        if _is_verbatim(info.annotation, info.metadata):
            if isinstance(value, list):
                for i, item in enumerate(value):
                    yield (*loc, name, i), item, source
            else:
                yield (*loc, name), value, source
        elif isinstance(value, BaseModel):
            yield from iter_verbatim(value, (*loc, name), source)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from iter_verbatim(item, (*loc, name, i), source)
