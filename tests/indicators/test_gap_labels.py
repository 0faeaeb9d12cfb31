"""Gap causes' labels and colours (``geoplan.indicators.gaps``, ``gap_tables``): every cause the
attribution can give has a bilingual label, and every drawn cause a colour."""

from __future__ import annotations

import re

from geoplan.indicators.gap_tables import CAUSE_COLOURS
from geoplan.indicators.gaps import cause_labels, cause_order


def test_every_cause_has_labels_and_the_drawn_ones_colours() -> None:
    labels = cause_labels()
    order = cause_order()
    assert len(set(order)) == len(order)
    for key in order:
        zh, en = labels[key]  # every cause the table can show
        assert re.search(r"[\u4e00-\u9fff]", zh) and en.isascii() and en
    for key, colour in CAUSE_COLOURS.items():
        assert key in order and key in labels
        rgb = [int(v) for v in colour.split(",")]
        assert len(rgb) == 3 and all(0 <= v <= 255 for v in rgb)
    assert {"water", "railway", "expressway", "wall"} <= set(labels)
