"""The editors' JSON Schema, generated from the models.

Model docstrings are English (for developers); editors see Chinese, so titles and descriptions
of objects are replaced here. Field titles and descriptions come from the models themselves.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic.json_schema import models_json_schema

from .models import FILE_MODELS

DIALECT = "https://json-schema.org/draft/2020-12/schema"

OBJECT_DOCS: dict[str, tuple[str, str]] = {
    "Cluster": ("组团", "一个村级组团的案例文件（cases/clusters/<标识>.yaml）。"),
    "Lesson": ("经验启示", "一条经验启示（cases/lessons/<标识>.yaml）。"),
    "Alliance": ("党建联盟", "区级党建联盟（cases/alliance.yaml）。"),
    "IndicatorCatalogue": ("指标目录", "全部指标的定义（cases/indicators.yaml）。"),
    "SourceList": ("来源", "全部来源文档（cases/sources.yaml）。"),
    "Term": ("具名事项", "原文中的具名事项及其说明。"),
    "Model": ("发展模式", "组团或联盟的发展模式。"),
    "Chain": ("产业链", "原文逐个列出环节的一条产业链。"),
    "Mechanism": ("机制", "工作机制或制度安排。"),
    "Measure": ("举措", "一项具体做法。"),
    "Partner": ("合作方", "参与的企业、合作社、高校、金融机构、平台或媒体。"),
    "Project": ("项目", "具名项目或设施。"),
    "Milestone": ("大事记", "有年份的事件。"),
    "Statement": ("原文表述", "逐字照录的一句原文表述及其出处。"),
    "Outcome": ("成效", "原文报告的成效或荣誉。"),
    "Observation": ("数据", "一个指标的一个数值；原文脱敏写 '*'。"),
    "Location": ("位置", "所在区县、乡镇和村（原文多脱敏为 *）。"),
    "FrameworkMember": ("框架组成", "组织框架的一个组成部分。"),
    "Framework": ("组织框架", "联盟的组织框架。"),
    "Strand": ("资源路径", "联盟聚合资源的一条路径。"),
    "Example": ("典型事例", "原文点名的例子。"),
    "Indicator": ("指标", "指标目录中的一项。"),
    "Section": ("章节", "来源文档的一个章节。"),
    "Source": ("来源文档", "一份来源文档。"),
}


OVERLAY_DOCS: dict[str, tuple[str, str]] = {
    "OverlayFile": ("内部数据文件", "一个公开案例文件中脱敏内容的真实数值和名称（内部资料，放在公开仓库之外）。"),
    "OverlayFigure": ("内部数据", "一项脱敏数据的真实数值、年份和公开方式。"),
    "OverlayName": ("真实名称", "一个脱敏写法的真实写法。"),
}


def overlay_schema() -> dict[str, Any]:
    """The schema of an overlay file (casebook.overlay), written beside the skeleton by `overlay init`."""
    from .overlay import OverlayFile

    schema = OverlayFile.model_json_schema()
    _localise(schema.get("$defs", {}))
    _localise({"OverlayFile": schema})
    return {"$schema": DIALECT, "$id": "overlay.schema.json", **schema}


def _localise(defs: dict[str, Any]) -> None:
    for name, schema in defs.items():
        docs = OBJECT_DOCS.get(name) or OVERLAY_DOCS.get(name)
        if docs:
            schema["title"], schema["description"] = docs


def kind_schema(kind: str) -> dict[str, Any]:
    """The schema of one kind of case file, for the `$schema` line at the top of that file."""
    model = FILE_MODELS[kind]
    schema = model.model_json_schema()
    _localise(schema.get("$defs", {}))
    _localise({model.__name__: schema})
    return {"$schema": DIALECT, "$id": f"{kind}.schema.json", **schema}


def combined_schema() -> dict[str, Any]:
    """One schema covering every kind of case file."""
    _, schema = models_json_schema([(m, "validation") for m in FILE_MODELS.values()],
                                   title="共富案例库案例文件")
    _localise(schema.get("$defs", {}))
    schema["description"] = "共富案例库的案例文件：组团、经验启示、党建联盟、指标目录或来源之一。"
    schema["anyOf"] = [{"$ref": f"#/$defs/{m.__name__}"} for m in FILE_MODELS.values()]
    return {"$schema": DIALECT, "$id": "casebook.schema.json", **schema}


def dumps(schema: dict[str, Any]) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def schema_files() -> dict[str, str]:
    """File name → content, for every schema committed under schema/."""
    files = {f"{kind}.schema.json": dumps(kind_schema(kind)) for kind in FILE_MODELS}
    files["casebook.schema.json"] = dumps(combined_schema())
    return files


def write_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in schema_files().items():
        path = directory / name
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written
