"""The editors' field reference, generated from the models, so it can never fall behind the schema."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel

from .escaping import md_escape
from .models import FILE_MODELS, KIND_LABELS

FILE_LOCATIONS = {
    "cluster": "cases/clusters/<标识>.yaml",
    "lesson": "cases/lessons/<标识>.yaml",
    "alliance": "cases/alliance.yaml",
    "indicators": "cases/indicators.yaml",
    "sources": "cases/sources.yaml",
}


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(inner type, is_list) with Optional and Annotated removed."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(args[0]) if len(args) == 1 else (annotation, False)
    if origin is list:
        inner, _ = _unwrap(typing.get_args(annotation)[0])
        return inner, True
    return annotation, False


def _type_label(annotation: Any, name: str) -> str:
    inner, is_list = _unwrap(annotation)
    if name == "value":
        label = "数值（数字、带单位的文字或 '*'）"
    elif name == "year":
        label = "年份（四位数字或 '*'）"
    elif isinstance(inner, type) and issubclass(inner, BaseModel):
        label = "一组字段"
    elif typing.get_origin(inner) is Literal:
        label = "可选值：" + "、".join(str(v) for v in typing.get_args(inner))
    elif inner is int:
        label = "整数"
    elif inner is bool:
        label = "true 或 false"
    elif getattr(inner, "__name__", "") == "date":
        label = "日期 YYYY-MM-DD"
    else:
        label = "文字"
    return f"列表，每项为{label}" if is_list else label


def fields(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, str, str, bool, str]]:
    """(path, title, type, required, description) for every field, nested ones as a.b / a[].b."""
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        yield path, info.title or name, _type_label(info.annotation, name), info.is_required(), info.description or ""
        inner, is_list = _unwrap(info.annotation)
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            yield from fields(inner, f"{path}[]." if is_list else f"{path}.")


def _cell(text: str) -> str:
    return str(md_escape(text))


def reference_markdown() -> str:
    lines = ["# 字段参考", "",
             "本页由程序根据案例文件的数据模型自动生成，与编辑器里的补全提示一致。"
             "“路径”中的 `a.b` 表示 a 下面的 b，`a[].b` 表示列表 a 的每一项中的 b。", ""]
    for kind, model in FILE_MODELS.items():
        lines += [f"## {md_escape(KIND_LABELS[kind] + '（' + FILE_LOCATIONS[kind] + '）')} {{#{kind}}}", "",
                  "| 路径 | 名称 | 类型 | 必填 | 说明 |", "|---|---|---|---|---|"]
        for path, title, kind_label, required, description in fields(model):
            lines.append(f"| `{path}` | {_cell(title)} | {_cell(kind_label)} | {'是' if required else ''} "
                         f"| {_cell(description)} |")
        lines.append("")
    return "\n".join(lines)
