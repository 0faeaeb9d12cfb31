"""The 城市体检 report (``geoplan.outputs.report.write_report``) of a real check: its Word
document states the city, the sheet and the measured figures of the scorecard; the PDF has pages;
the maps exist (``geoplan.outputs.report.maps``)."""

from __future__ import annotations

from pathlib import Path

import geoplan
from geoplan.outputs.report import write_report
from geoplan.outputs.report.content import value_words


def test_report_states_the_scorecards_figures(chengdu: geoplan.City, tmp_path: Path) -> None:
    import docx

    res = geoplan.check_city(chengdu, sheet="anyang-2023")
    paths = write_report(chengdu, res, tmp_path)
    d = docx.Document(str(paths["report_docx"]))
    text = "\n".join(p.text for p in d.paragraphs)
    cells = "\n".join(c.text for t in d.tables for row in t.rows for c in row.cells)
    assert "OpenStreetMap" in text + cells
    card = res.scorecard
    shown = 0
    for _, r in card[card["status"].isin(["pass", "fail"])].iterrows():
        words = value_words(r["measured"], r.get("bound"), str(r["unit"]), "zh")
        if words in cells or words in text:
            shown += 1
    assert shown >= 5  # the measured figures are printed as the scorecard has them
    pdf = paths["report_pdf"].read_bytes()
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page") >= 2
    assert paths["report_map"].stat().st_size > 10_000
