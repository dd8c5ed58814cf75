"""Synthetic casebooks for the province-scale benchmark. Every name and figure is FICTIONAL.

A casebook of N clusters with realistic text lengths and 5–10 indicators × 5 years of figures per
cluster, about one in five desensitised ('*'), written to a directory as ordinary case files.
"""

from __future__ import annotations

import random
from pathlib import Path

YEARS = [2019, 2020, 2021, 2022, 2023]
INDICATORS = [
    ("collective-income", "村集体经营性收入（虚构）", "万元", "collective_economy"),
    ("farmer-income", "农民人均纯收入（虚构）", "万元", "income"),
    ("land-transferred", "流转土地面积（虚构）", "亩", "land"),
    ("jobs-created", "带动就业岗位数（虚构）", "个", "employment"),
    ("e-commerce-sales", "电商销售额（虚构）", "亿元", "ecommerce"),
    ("investment", "投资额（虚构）", "万元", "investment"),
    ("visitors", "游客接待量（虚构）", "人次", "industry"),
    ("trainings", "培训场次（虚构）", "场", "talent"),
    ("households", "电商户数（虚构）", "家", "ecommerce"),
    ("area", "区域总面积（虚构）", "平方公里", "basics"),
]
WORDS = ["竹笋", "茶叶", "山核桃", "高山蔬菜", "粮油", "民宿", "研学", "直播", "电商", "冷链", "合作社", "共富工坊", "土地流转", "村集体", "党建联建", "数字田园", "农文旅", "共富贷", "两进两回", "非粮化", "乡贤", "新农人", "农事服务", "品牌", "物流", "加工", "采摘", "红色文化"]


def _sentence(rng: random.Random, length: int) -> str:
    out = ""
    while len(out) < length:
        out += "围绕" + "、".join(rng.sample(WORDS, 3)) + "推进组团发展，" + rng.choice(WORDS) + "带动农民增收。"
    return out[:length].rstrip("，、") + "。"


def write_casebook(root: Path, clusters: int, seed: int = 7) -> Path:
    rng = random.Random(seed)
    (root / "clusters").mkdir(parents=True, exist_ok=True)
    (root / "lessons").mkdir(exist_ok=True)
    (root / "sources").mkdir(exist_ok=True)
    names: list[str] = []
    for i in range(clusters):
        cid = f"fictional-{i:04d}"
        name = f"虚构组团{i:04d}"
        names.append(name)
        lines = [
            "# yaml-language-server: $schema=../../schema/cluster.schema.json",
            # The model numbers clusters 1–9999; past that a cluster has no number and follows
            # the numbered ones by id, as the field's description says.
            f"id: {cid}", *([f"order: {i + 1}"] if i < 9999 else []), f"name: {name}", f"theme: {name}",
            f"summary: {_sentence(rng, 160)}",
            "location:", "  district: '*区'", "  town: '*镇'",
            "industries:", *[f"  - {w}" for w in rng.sample(WORDS, 3)],
            "models:", f"  - id: {cid}-model", f"    name: {name}", f"    description: {_sentence(rng, 120)}",
            "mechanisms:", f"  - id: {cid}-mechanism", f"    name: {name}", f"    description: {_sentence(rng, 100)}",
            "measures:",
        ]
        for m in range(5):
            lines += [f"  - title: 举措{m + 1}", f"    description: {_sentence(rng, 90)}"]
        lines.append("partners:")
        for _p in range(4):
            lines += [f"  - name: {name}", f"    kind: {rng.choice(['company', 'cooperative', 'university', 'bank'])}",
                      f"    role: {_sentence(rng, 40)}"]
        lines.append("outcomes:")
        lines += [f"  - description: {_sentence(rng, 80)}" for _ in range(2)]
        lines.append("observations:")
        for ind_id, _, _, _ in rng.sample(INDICATORS, rng.randint(5, 10)):
            base = rng.randint(20, 500)
            for k, year in enumerate(YEARS):
                value = "'*'" if rng.random() < 0.2 else str(round(base * (1.1 ** k), 1))
                lines += [f"  - indicator: {ind_id}", f"    year: {year}", f"    value: {value}"]
        lines.append("source: fictional/main")
        (root / "clusters" / f"{cid}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    catalogue = ["indicators:"]
    for ind_id, ind_name, unit, category in INDICATORS:
        catalogue += [f"  - id: {ind_id}", f"    name: {ind_name}", f"    unit: {unit}",
                      f"    definition: 虚构指标{ind_name}。", "    direction: higher_is_better",
                      f"    headline: {'true' if ind_id in ('collective-income', 'farmer-income', 'area') else 'false'}",
                      f"    category: {category}"]
    (root / "indicators.yaml").write_text("\n".join(catalogue) + "\n", encoding="utf-8")
    (root / "sources" / "fictional.txt").write_text(
        "虚构基准测试材料。\n" + "\n".join(names) + "\n" + " ".join(WORDS) + "\n*区 *镇\n", encoding="utf-8")
    (root / "sources.yaml").write_text(
        "sources:\n  - id: fictional\n    title: 虚构基准测试材料（非真实数据）\n    kind: 虚构测试材料\n"
        "    file: sources/fictional.txt\n    sections:\n      - id: main\n        title: 虚构基准测试材料\n",
        encoding="utf-8")
    (root / "lessons" / "fictional-lesson.yaml").write_text(
        "id: fictional-lesson\norder: 1\ntitle: 虚构基准测试材料\nsummary: 虚构的启示。\n"
        "clusters:\n  - fictional-0000\nmechanisms:\n  - fictional-0000-mechanism\nsource: fictional/main\n",
        encoding="utf-8")
    return root
