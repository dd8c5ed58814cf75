"""`casebook new`: a new cluster file that explains itself, for editors who are not programmers.

The file is valid YAML with the ``$schema`` line, Chinese comments on every field, and the
placeholder 【待填写】 wherever the editor must write something; `casebook check` reports each
placeholder until it is filled.
"""

from __future__ import annotations

import os
import re
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from . import models
from .errors import UsageError
from .models import SLUG_PATTERN, Cluster
from .validate import PLACEHOLDER


class ScaffoldError(UsageError):
    """A Chinese message for the editor; nothing was written (exit 2)."""


class ScaffoldExists(ScaffoldError):
    """The file is there already and was left as it is (exit 1)."""

    exit_code = 1


HEADER = """\
# yaml-language-server: $schema={schema}
# 组团文件。请把所有“{ph}”换成真实内容，然后运行 casebook check 检查。
# 规则：名称、主题句、村名、产业、口号等“逐字照录”的字段，必须与来源文档（cases/sources/ 下的原文）一字不差；
#       概述、说明等字段用自己的话写。原文脱敏的数字写带引号的 '*'，绝不写 0；以 * 开头的文字也要加引号，如 '*区'。
"""


def cluster_template(cluster_id: str, name: str | None, schema: str) -> str:
    """The new cluster file, generated from the Cluster model like the schema and the field
    reference: every field in the model's order with its Chinese title and description as a
    comment; required text as the placeholder, optional fields commented out, lists empty with
    what each item holds — so the file can never offer fewer (or other) fields or values than
    check takes."""
    lines = HEADER.format(schema=schema, ph=PLACEHOLDER).splitlines()
    given = {"id": cluster_id, "name": _yaml_text(name) if name else PLACEHOLDER}
    for key, info in Cluster.model_fields.items():
        lines += ["", *_field_lines(key, info, given.get(key), "")]
    return "\n".join(lines) + "\n"


def _field_lines(key: str, info: FieldInfo, value: str | None, indent: str) -> list[str]:
    out = [f"{indent}# {info.title}：{info.description}"]
    annotation = _bare(info.annotation)
    item = _item_model(annotation)
    if item is not None:  # a list of records: empty, and what each one holds
        out.append(f"{indent}# 每项的字段：")
        out += [f"{indent}#   {line}" for line in _members(item)]
        return [*out, f"{indent}{key}: []"]
    if _origin(annotation) is list:
        return [*out, f"{indent}{key}: []"]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        out.append(f"{indent}{key}:")
        for sub, sub_info in annotation.model_fields.items():
            out += _field_lines(sub, sub_info, None, indent + "  ")
        return out
    if value is None and not info.is_required():
        choices = _choices_of(annotation)
        return [*out, f"{indent}# {key}: " + (f"（{choices}）" if choices else "")]
    return [*out, f"{indent}{key}: {value or PLACEHOLDER}"]


def _members(model: type[BaseModel]) -> list[str]:
    """One comment line per field of a list item: "kind（company 企业 / …）必填：…"."""
    out = []
    for key, info in model.model_fields.items():
        shown = _choices_of(_bare(info.annotation)) or info.title
        out.append(f"{key}（{shown}）{'必填' if info.is_required() else '可选'}：{info.description}")
    return out


def _choices_of(annotation: Any) -> str:
    """The values a Literal field allows, each with the site's word for it where the models have
    a label table for exactly those values."""
    if _origin(annotation) is not Literal:
        return ""
    values = [str(v) for v in typing.get_args(annotation)]
    labels = next((table for table in _LABEL_TABLES if set(table) == set(values)), {})
    return " / ".join(f"{v} {labels[v]}" if v in labels else v for v in values)


_LABEL_TABLES = [t for t in vars(models).values() if isinstance(t, dict) and t and all(isinstance(k, str) and
                 isinstance(v, str) for k, v in t.items()) and any(n.endswith("_LABELS") and vars(models)[n] is t
                                                                    for n in vars(models))]


def _origin(annotation: Any) -> Any:
    return typing.get_origin(annotation)


def _bare(annotation: Any) -> Any:
    """Without Annotated metadata and without ``| None``."""
    while _origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    if _origin(annotation) in (Union, types.UnionType):
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(rest) == 1:
            return _bare(rest[0])
    return annotation


def _item_model(annotation: Any) -> type[BaseModel] | None:
    if _origin(annotation) is not list:
        return None
    item = _bare(typing.get_args(annotation)[0])
    return item if isinstance(item, type) and issubclass(item, BaseModel) else None


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
    content = cluster_template(cluster_id, name, Path(schema).as_posix())
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("x", encoding="utf-8") as fh:  # "x": never overwrite, even in a race
        fh.write(content)
    return target


def _yaml_text(text: str) -> str:
    """A single-quoted YAML scalar: safe for *, :, # and every other special character."""
    return "'" + text.strip().replace("'", "''") + "'"
