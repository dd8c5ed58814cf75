"""`casebook new`: a new cluster file that explains itself, for editors who are not programmers.

The file is valid YAML with the ``$schema`` line, Chinese comments on every field, and the
placeholder 【待填写】 wherever the editor must write something; `casebook check` reports each
placeholder until it is filled.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from .errors import UsageError
from .figures import QUALIFIERS
from .models import PARTNER_KIND_LABELS, PROJECT_STATUS_LABELS, SLUG_PATTERN
from .validate import PLACEHOLDER


class ScaffoldError(UsageError):
    """A Chinese message for the editor; nothing was written (exit 2)."""


class ScaffoldExists(ScaffoldError):
    """The file is there already and was left as it is (exit 1)."""

    exit_code = 1


TEMPLATE = """\
# yaml-language-server: $schema={schema}
# 组团文件。请把所有“{ph}”换成真实内容，然后运行 casebook check 检查。
# 规则：名称、主题句、村名、产业、口号等“逐字照录”的字段，必须与来源文档（cases/sources/ 下的原文）一字不差；
#       概述、说明等字段用自己的话写。原文脱敏的数字写带引号的 '*'，绝不写 0；以 * 开头的文字也要加引号，如 '*区'。

# 标识：英文小写短标识，与文件名一致，用于网址，发布后不要修改
id: {id}
# 序号：在首页和导航中的顺序（可省略）
# order: 6

# 组团名称：原文中的名称，逐字照录（不含“组团”二字）
name: {name}
# 主题句：原文中组团的主题句，逐字照录
theme: {ph}
# 概述：用自己的话写两三句，说明组团是什么、靠什么发展
summary: {ph}
# 默认来源：格式“文档标识/章节标识”，见 cases/sources.yaml（新材料请先在那里登记）
source: {ph}

# 位置：照录原文写法
location:
  district: {ph}
  # town: '*镇'

# 原文点名的村（只给了数量时留空，数量写在下面的数据里）
villages: []
# 主导产业，逐项照录
industries: []

# 发展模式：每项含 id（英文短标识，全库唯一）、name（逐字照录）、formula（原文概括，可省略）、description（自己的话）
models: []
# 机制：每项含 id、name、description，可加 terms（原文术语）
mechanisms: []
# 举措：每项含 title、description，可加 terms
measures: []
# 合作方：每项含 name、kind（{partner_kinds}）、role
partners: []
# 项目：每项含 name、description，可加 status（{statuses}）
projects: []
# 口号与提法，逐字照录
slogans: []
# 大事记：每项含 year（脱敏写 '*'）、event，可加 quote
milestones: []
# 成效：每项含 description，可加 terms
outcomes: []

# 数据：每项一个指标值。indicator 为 cases/indicators.yaml 中的标识；value 为数字、带单位的文字（如 3.2亿元）
# 或 '*'（原文脱敏）；可加 year、period（如“累计”）、qualifier（{qualifiers}）、quote（原文短语，须与数值一致）
observations: []
"""


def new_cluster(cases: Path, cluster_id: str, name: str | None = None, schema_dir: Path | None = None) -> Path:
    """Write cases/clusters/<id>.yaml; refuse a bad id or an existing file. Returns the new path."""
    if not re.fullmatch(SLUG_PATTERN, cluster_id) or len(cluster_id) > 64:
        raise ScaffoldError(f"标识“{cluster_id}”不合规。提示：只用小写英文字母、数字和连字符，以字母或数字开头和结尾，"
                            "如 tea-valley")
    if not cases.is_dir():
        raise ScaffoldError(f"找不到案例目录“{cases}”。提示：在项目根目录运行，或用 --cases 指定")
    if name is not None and (not name.strip() or "\n" in name):
        raise ScaffoldError("名称不能为空，也不能换行。提示：--name 后写原文中的组团名称")
    target = cases / "clusters" / f"{cluster_id}.yaml"
    existing = [p for p in (target, target.with_suffix(".yml")) if p.exists()]
    if existing:
        raise ScaffoldExists(f"文件“{existing[0]}”已经存在，没有覆盖。提示：换一个标识，或直接编辑这个文件")
    schema_dir = schema_dir or Path("schema")
    schema = os.path.relpath((schema_dir / "cluster.schema.json").resolve(), target.parent.resolve())
    content = TEMPLATE.format(schema=Path(schema).as_posix(), id=cluster_id, ph=PLACEHOLDER, qualifiers="/".join(QUALIFIERS),
                              name=_yaml_text(name) if name else PLACEHOLDER,
                              partner_kinds=_choices(PARTNER_KIND_LABELS), statuses=_choices(PROJECT_STATUS_LABELS))
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("x", encoding="utf-8") as fh:  # "x": never overwrite, even in a race
        fh.write(content)
    return target


def _choices(labels: Mapping[str, str], per_line: int = 4) -> str:
    """Every value the model allows, with its Chinese label, for a comment in the new file: taken
    from the model's own table, so the file can never offer fewer (or other) values than check takes."""
    items = [f"{value} {label}" for value, label in labels.items()]
    lines = [" / ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return " /\n#   ".join(lines)


def _yaml_text(text: str) -> str:
    """A single-quoted YAML scalar: safe for *, :, # and every other special character."""
    return "'" + text.strip().replace("'", "''") + "'"
