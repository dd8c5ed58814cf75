"""The real casebook: every file valid, the whole seed present, figures honest."""

from __future__ import annotations

import re
import time
from decimal import Decimal
from pathlib import Path

import pytest

from casebook.figures import DESENSITISED
from casebook.loader import load_file
from casebook.validate import discover, load_casebook

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "cases"
CHINESE_DIGITS = "零一二三四五六七八九"


@pytest.fixture(scope="module")
def real():
    book, errors = load_casebook(CASES)
    return book, errors


def test_every_real_file_is_valid(real):
    book, errors = real
    assert len(discover(CASES)) > 0
    assert [e.text() for e in errors] == []
    assert len(book.files) == len(discover(CASES))


def test_check_counts(check):
    rc, payload = check.json(CASES)
    assert rc == 0 and payload["ok"] is True and payload["errors"] == []
    counts = payload["counts"]
    assert counts["clusters"] == 5 and counts["lessons"] == 5
    assert counts["indicators"] > 10 and counts["observations"] > 50
    assert counts["files"] == len(discover(CASES))


def test_clusters_and_lessons_by_id(real):
    book, _ = real
    assert set(book.clusters) == {"source-prosperity", "grain-store", "mountain-road", "farming-weaving",
                                  "cloud-ecommerce"}
    assert sorted(lesson.order for lesson in book.lessons.values()) == [1, 2, 3, 4, 5]
    for lesson in book.lessons.values():
        assert lesson.clusters and lesson.refs, lesson.id
    assert book.alliance is not None


def test_named_facts_are_present(real):
    """A sample of facts every reader expects, quoted exactly (the check proves all quotes are verbatim)."""
    book, _ = real
    dump = " ".join(str(m.model_dump()) for m in [*book.clusters.values(), *book.lessons.values(), book.alliance])
    for fact in ["四带共富", "党建带领、政府带动、企业带路、农民带地", "政企村户", "十里稻香", "雪乡共富菜园", "旷野公园",
                 "产业在山上、生活在村庄、致富在网上、治理在云上", "后营", "后葛", "西街", "播呗文化", "淘宝村播学院",
                 "金惠粮油合作社", "中商农业", "两进两回", "共富贷", "十百千", "城乡合伙人", "*秘境", "*月乡",
                 "初心之旅一张图", "专班攻坚", "多跨共建", "比拼晾晒", "非粮化", "聚沙成塔", "耕织云图"]:
        assert fact in dump, fact


def test_desensitised_figures_are_never_numbers(real):
    """A '*' in the source is kept as '*': a number appears only where the quote shows that number."""
    book, _ = real
    observations = [o for c in book.clusters.values() for o in c.observations] + list(book.alliance.observations)
    desensitised = [o for o in observations if o.value is not None and o.value.value == DESENSITISED]
    assert len(desensitised) > 50
    for obs in observations:
        if obs.value is None or obs.value.value == DESENSITISED:
            continue
        assert isinstance(obs.value.value, Decimal)
        n = int(obs.value.value)
        spelled = {str(n)} | ({CHINESE_DIGITS[n]} if n < 10 else set()) | ({"两"} if n == 2 else set())
        assert obs.quote and any(s in obs.quote for s in spelled), (obs.indicator, obs.quote)


def test_every_observation_quotes_its_source(real):
    book, _ = real
    for cluster in book.clusters.values():
        for obs in cluster.observations:
            assert obs.quote, (cluster.id, obs.indicator)
    assert all(o.quote for o in book.alliance.observations)


def test_misquoted_name_is_an_error(check, tmp_path):
    import shutil

    target = tmp_path / "cases"
    shutil.copytree(CASES, target)
    path = target / "clusters" / "source-prosperity.yaml"
    text = path.read_text(encoding="utf-8")
    assert "四带共富" in text
    path.write_text(text.replace("四带共富", "四带共赢", 1), encoding="utf-8")
    rc, payload = check.json(target)
    assert rc == 1
    assert any("找不到“" in e["message"] and "四带共赢" in e["message"] for e in payload["errors"])


def test_typical_file_loads_fast():
    """Not a timing assertion (machines are noisy): a generous guard against pathological slowness."""
    path = CASES / "clusters" / "cloud-ecommerce.yaml"
    start = time.perf_counter()
    for _ in range(20):
        _, errors = load_file(path)
        assert errors == []
    assert (time.perf_counter() - start) / 20 < 0.5


def test_yaml_files_are_editor_friendly():
    for path in discover(CASES):
        text = path.read_text(encoding="utf-8")
        assert "\t" not in text, path
        assert not re.search(r"^\s*[{\[]", text, re.M), f"{path}: flow style"
        assert len(text.encode("utf-8")) < 64 * 1024, f"{path}: keep case files short"
