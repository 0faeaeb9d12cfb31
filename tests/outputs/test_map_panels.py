"""Map panels (``geoplan.outputs.map_panels``): every string escaped, bad tables refused."""

from __future__ import annotations

import html

import pandas as pd
import pytest

from geoplan._errors import LayerError
from geoplan.outputs.map_panels import (
    Legend,
    Scorecard,
    TitleBlock,
    area_swatch,
    line_swatch,
    point_swatch,
)

EVIL = '<img src=x onerror="alert(1)">公园 & "路"'


def test_swatches_and_legend_escape_labels() -> None:
    items = [
        line_swatch({"color": "#123456", "weight": 3}, EVIL),
        area_swatch({"color": "#123456", "fillColor": "#abcdef", "dashArray": "5 5"}, EVIL),
        point_swatch("#ff0000", EVIL),
    ]
    for it in items:
        assert "<img" not in it and html.escape(EVIL, quote=True) in it
    assert "dashed" in items[1] and "height:3px" in items[0]
    leg = Legend("zh")
    leg.add_section(EVIL, items)
    leg.add_section("empty", [])  # an empty section is left out
    out = leg.html
    assert "<img" not in out and out.count('class="sec"') == 1


def test_title_block_escapes_every_text() -> None:
    t = TitleBlock(EVIL, [EVIL, ""], note=EVIL)
    assert "<img" not in t.html and t.html.count(html.escape(EVIL, quote=True)) == 3


def test_scorecard_refuses_a_table_without_its_columns() -> None:
    with pytest.raises(LayerError, match="missing column"):
        Scorecard(pd.DataFrame({"indicator": ["x"]}), "zh")
    table = pd.DataFrame(
        {
            "indicator": ["a"],
            "label_zh": [EVIL],
            "label_en": [EVIL],
            "measured": ["50.0%"],
            "target": ["≥ 90%"],
            "status": ["fail"],
            "gap": ["-40.0"],
        }
    )
    out = Scorecard(table, "zh").html
    assert "<img" not in out and "≥ 90%" in out
