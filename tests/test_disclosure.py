"""Per-figure disclosure in the public edition: `public` shows the owner's value, `index` shows an
index over the series' first year (= 100), never the amount. On a FICTIONAL (虚构) casebook whose
whole series is masked: index disclosure is for trends without amounts."""

from __future__ import annotations

import re
import shutil
from decimal import Decimal
from pathlib import Path

import yaml

from casebook.overlay import index_series, init_overlay, load_overlay, public_book
from casebook.validate import load_casebook

FIGURES = Path(__file__).parent / "fixtures" / "fictional_figures"
VALUES = {2019: 40, 2020: 50, 2021: 62, 2022: 80, 2023: 100}  # 虚构


def masked_series(tmp: Path) -> tuple[Path, Path]:
    """The fictional numeric casebook with fictional-alpha's collective income masked every year,
    and an overlay that fills it in (虚构) and discloses it as an index."""
    cases = tmp / "cases"
    shutil.copytree(FIGURES, cases)
    alpha = cases / "clusters" / "fictional-alpha.yaml"
    text = re.sub(r"\{indicator: collective-income, year: (\d{4}), value: [^}]+\}",
                  r"{indicator: collective-income, year: \1, value: '*'}", alpha.read_text(encoding="utf-8"))
    alpha.write_text(text, encoding="utf-8")
    book, errors = load_casebook(cases)
    assert errors == []
    overlay = tmp / "overlay"
    init_overlay(overlay, book)
    path = overlay / "clusters" / "fictional-alpha.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    figures = [f for f in data["figures"] if f["indicator"] == "collective-income"]
    assert len(figures) == 5  # the skeleton lists each masked year; the year tells them apart
    for n, fig in enumerate(figures):
        fig["value"], fig["disclosure"], fig["note"] = VALUES[2019 + n], "index", "虚构数值"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return cases, overlay


def test_an_index_is_the_series_over_its_first_year_and_never_the_amount(tmp_path):
    cases, overlay = masked_series(tmp_path)
    book, _ = load_casebook(cases)
    read, errors = load_overlay(overlay, book)
    assert errors == [], [e.text() for e in errors]
    series = index_series(book, read)
    assert sorted((base, index) for index, base in series.values()) == [
        (2019, Decimal(v) / 40 * 100) for v in sorted(VALUES.values())]
    public = public_book(book, read)
    shown = [o for o in public.clusters["fictional-alpha"].observations if o.indicator == "collective-income"]
    for obs in shown:
        assert obs.value is not None and obs.value.value == "*"  # the amount stays masked
        assert obs.note and re.search(r"指数 [\d.]+（2019年=100）", obs.note)
        assert str(VALUES[obs.year]) not in obs.note.replace("2019年=100", "")  # type: ignore[index]
    assert "指数 155.0（2019年=100）" in next(o.note or "" for o in shown if o.year == 2021)
    # The public casebook the overlay was read against is left as it was.
    assert all(o.note is None for o in book.clusters["fictional-alpha"].observations)


def test_an_index_over_a_zero_base_is_a_located_error(tmp_path):
    cases, overlay = masked_series(tmp_path)
    book, _ = load_casebook(cases)
    # The series' first year worth 0: no index can be made of it.
    alpha = overlay / "clusters" / "fictional-alpha.yaml"
    a = yaml.safe_load(alpha.read_text(encoding="utf-8"))
    a["figures"][0]["value"] = 0
    alpha.write_text(yaml.safe_dump(a, allow_unicode=True, sort_keys=False), encoding="utf-8")
    _, errors = load_overlay(overlay, book)
    located = [e for e in errors if e.file.endswith("fictional-alpha.yaml") and "index" in e.message]
    assert located and all(e.line > 1 and "提示" in e.message for e in located)
