"""A target known only as an upper bound says why and how to fix it in every output."""

from __future__ import annotations

from pathlib import Path

import pytest

from geoplan.city import Study
from geoplan.outputs.check_set import write_check_set

FIX = "add the missing ones with --facilities"


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    study = Study(osm="demo")
    city = study.load(progress=False)
    result = study.check("anyang-2023", city=city)
    card = result.scorecard
    bounded = card.loc[card["bound"].notna(), "target_id"].unique().tolist()
    out = tmp_path_factory.mktemp("bounds")
    write_check_set(
        study, city, result, out=out, targets="anyang-2023", report=out, map_path=out / "m.html"
    )
    return out, bounded


def test_the_word_report_and_the_map_carry_the_missing_categories(
    written: tuple[Path, list[str]],
) -> None:
    from docx import Document

    out, bounded = written
    assert bounded  # the demo city lacks categories of the 15-minute life circle
    (docx,) = out.glob("*_report.docx")
    doc = Document(str(docx))
    texts = [p.text for p in doc.paragraphs]
    texts += [c.text for t in doc.tables for row in t.rows for c in row.cells]  # 数据局限 table
    assert any(FIX in p and "missing:" in p for p in texts)
    html = (out / "m.html").read_text(encoding="utf-8")
    # the bound, and the fix on hover (the panel's HTML sits JSON-escaped in the page's script)
    assert ("≤ " in html or "\\u2264 " in html) and FIX in html
    (pdf,) = out.glob("*_report.pdf")
    assert pdf.stat().st_size > 0
