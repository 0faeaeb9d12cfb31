"""Report maps (``geoplan.outputs.report.maps``): a coverage map of a real check is a PNG of
two panels, drawn; without areas it draws the base layers only."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest
from PIL import Image

import geoplan
from geoplan.outputs.report import cjk_font
from geoplan.outputs.report.maps import coverage_map


def test_coverage_map_png(chengdu_clip: geoplan.City, tmp_path: Path) -> None:
    font = cjk_font()
    if font is None:
        pytest.skip("no CJK font (fonts-noto-cjk) for the Chinese map title")
    res = geoplan.check_city(chengdu_clip, sheet="national")
    covers = {"buffer": res.coverage["bus_cov_500_buffer"]}
    covers["network"] = res.coverage["bus_cov_500_network"]
    with matplotlib.rc_context({"font.family": [font, "DejaVu Sans"]}):  # as write_report
        p = coverage_map(
            chengdu_clip,
            res,
            covers,
            "公交站点500米覆盖率",
            tmp_path / "m.png",
            lang="zh",
            data_date="2018",
        )
        q = coverage_map(
            chengdu_clip, res, {}, "x", tmp_path / "e.png", lang="en", data_date="2018"
        )
    assert p is not None and p.exists()
    with Image.open(p) as im:
        w, h = im.size
        assert w > 800 and h > 300 and w > h  # two panels side by side
        colours = im.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 20  # drawn, not blank
    assert q is None or q.exists()
