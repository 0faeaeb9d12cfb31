"""Parts of the 城市体检 report (``geoplan.outputs.report``): numbers and words by hand, line
wrapping of the PDF writer, a Word document read back with python-docx."""

from __future__ import annotations

from pathlib import Path

import pytest

from geoplan.outputs.report.content import (
    Chapter,
    Heading,
    Para,
    TableBlock,
    cn_number,
    gap_words,
    heading_text,
    value_words,
)
from geoplan.outputs.report.pdf_writer import _em, wrap


def test_chinese_section_numbers_and_headings() -> None:
    assert [cn_number(i) for i in (1, 9, 10, 11, 12, 19, 20, 21, 35, 99)] == [
        "一", "九", "十", "十一", "十二", "十九", "二十", "二十一", "三十五", "九十九"
    ]  # fmt: skip
    assert heading_text(1, 3, "公园绿地", "zh") == "三、公园绿地"
    assert heading_text(2, 2, "公交", "zh") == "（二）公交"
    assert heading_text(3, 4, "x", "zh") == "4. x"
    assert heading_text(1, 3, "Parks", "en") == "3. Parks"


@pytest.mark.parametrize(
    ("gap", "unit", "lang", "words"),
    [
        (-0.227, "share", "zh", "低于目标22.7个百分点"),
        (0.05, "share", "en", "5.0 points above"),
        (0.0, "share", "zh", "达到目标"),
        (-0.00004, "share", "en", "on target"),  # rounds to 0.0 points
        (None, "share", "zh", "—"),
    ],
)
def test_gap_words(gap: float | None, unit: str, lang: str, words: str) -> None:
    assert gap_words(gap, unit, lang) == words


def test_value_words() -> None:
    assert value_words(0.153, None, "share", "zh") == "15.3%"
    assert value_words(float("nan"), 0.083, "share", "en") == "≤ 8.3%"
    assert value_words(None, None, "share", "zh") == "无数据"
    assert value_words(7.0, None, "count", "zh") == "7个"


def test_wrap_fits_the_width_and_keeps_every_character() -> None:
    text = "城市体检报告：公交站点500米覆盖率低于目标，需在老城区新增公交站点。" * 3
    lines = wrap(text, 200.0, 10.0)
    assert "".join(lines) == text
    assert all(sum(_em(c) * 10.0 for c in ln) <= 200.0 for ln in lines)
    en = "Bus stop coverage within 500 m falls short of the target in the old town"
    lines = wrap(en, 120.0, 10.0)
    assert " ".join(lines) == en  # Latin breaks at spaces, none lost
    assert all(sum(_em(c) * 10.0 for c in ln) <= 120.0 for ln in lines)


def test_a_chapter_as_a_word_document(tmp_path: Path) -> None:
    import docx

    from geoplan.outputs.report.docx_writer import write_docx

    ch = Chapter(
        title="城市体检 测试",
        subtitle="成都 2018",
        blocks=[
            Heading(1, "一、总体情况"),
            Para("公交站点500米覆盖率 47.2%，低于目标52.8个百分点。"),
            TableBlock("表 1", ["指标", "现状值"], [["公交站点覆盖率", "47.2%"]], [3.0, 1.5]),
        ],
    )
    path = write_docx(ch, tmp_path / "r.docx", serif="Noto Serif CJK SC", sans="Noto Sans CJK SC")
    d = docx.Document(str(path))
    text = "\n".join(p.text for p in d.paragraphs)
    assert "一、总体情况" in text and "47.2%" in text
    assert d.tables and d.tables[0].cell(1, 1).text == "47.2%"
