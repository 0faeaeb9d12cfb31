"""What ``geoplan suggest`` sites and how the sheet scores it (``geoplan.siting.spec``): defaults
read independently from the data files, mistakes refused in one line."""

from __future__ import annotations

import pytest
import yaml

from geoplan._errors import LayerError
from geoplan.rules.datafile import DATA_DIR
from geoplan.scoring.targets import load_target_sheet
from geoplan.siting.spec import sheet_terms, spec_of

INDICATORS = yaml.safe_load((DATA_DIR / "indicators.yaml").read_text(encoding="utf-8"))
CIRCLES = yaml.safe_load((DATA_DIR / "life_circles.yaml").read_text(encoding="utf-8"))


def _default(indicator: str, name: str) -> object:
    return INDICATORS[indicator]["parameters"][name]["default"]


def test_defaults_come_from_the_data_files() -> None:
    bus = spec_of("bus_stop_coverage", radius_m=None, method="buffer", basis="homes", target=1.0)
    assert bus.radius_m == max(_default("bus_stop_coverage", "radii_m"))
    assert bus.label_zh == "规划公交站"
    park = spec_of("park_coverage", radius_m=None, method="network", basis="homes", target=0.9)
    assert park.radius_m == _default("park_coverage", "park_radius_m")
    assert park.min_area_m2 == _default("park_coverage", "park_min_area_m2")
    green = spec_of(
        "park_coverage", radius_m=None, method="buffer", basis="homes", target=1, green_kind="green"
    )
    assert green.radius_m == _default("park_coverage", "green_radius_m")
    assert green.label_zh == "规划口袋公园"
    kg = spec_of(
        "life_circle",
        radius_m=None,
        method="network",
        basis="homes",
        target=1,
        category="kindergarten",
    )
    levels = sorted(CIRCLES["levels"].values(), key=lambda lv: lv["radius_m"])
    first = next(
        lv
        for lv in levels
        if "kindergarten" in lv.get("required", []) or "kindergarten" in lv.get("optional", [])
    )
    assert kg.radius_m == first["radius_m"] and kg.label_zh == "规划幼儿园"


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"indicator": "bus_stops"}, "did you mean 'bus_stop_coverage'"),
        ({"method": "walk"}, "--method must be buffer or network"),
        ({"target": 0.0}, "--target is a share"),
        ({"target": 90.0}, "--target is a share"),
        ({"basis": "people"}, "unknown basis"),
        ({"indicator": "park_coverage", "basis": "boundary_area"}, "bus stops only"),
        ({"indicator": "life_circle"}, "needs --category"),
        ({"indicator": "life_circle", "category": "kindergarden"}, "did you mean 'kindergarten'"),
        ({"radius_m": 0.0}, "--radius must be in"),
    ],
)
def test_mistakes_are_refused_in_one_line(kwargs: dict[str, object], words: str) -> None:
    args: dict[str, object] = {
        "indicator": "bus_stop_coverage",
        "radius_m": None,
        "method": "buffer",
        "basis": "homes",
        "target": 1.0,
    } | kwargs
    with pytest.raises(LayerError) as err:
        spec_of(**args)  # type: ignore[arg-type]
    assert words in str(err.value) and "\n" not in str(err.value)


def test_the_sheet_scores_bus_stops_over_the_built_up_area() -> None:
    sheet = load_target_sheet("anyang-2023")
    raw = yaml.safe_load(sheet.path.read_text(encoding="utf-8"))
    t500 = next(
        t
        for t in raw["targets"]
        if t.get("indicator") == "bus_stop_coverage" and t["params"]["radius_m"] == 500
    )
    terms = sheet_terms("bus_stop_coverage", sheet, method="buffer", radius_m=500.0)
    assert terms.basis == "boundary_area"
    assert terms.target == min(float(t500["value"]), 1.0) and terms.target_id == t500["id"]
    walk = sheet_terms("park_coverage", sheet, method="network", with_population=True)
    assert walk.basis == "residents"
    assert sheet_terms("park_coverage", sheet, method="buffer").basis == "residential_area"
