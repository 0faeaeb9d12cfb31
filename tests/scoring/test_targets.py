"""Tests for geoplan.scoring.targets: the bundled target sheets, the life circles and the loader.

The independent checks are (1) a table of expected targets written here by hand from
shared/INDICATORS.md, and (2) the seed documents themselves: every quoted clause must occur in the
seed text the sheet cites.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from geoplan._errors import InputFileError, TargetSheetError
from geoplan.indicators.registry import TARGETS as INDICATORS
from geoplan.rules.categories import FACILITY_CATEGORIES
from geoplan.rules.life_circles import load_life_circles
from geoplan.scoring.targets import (
    TARGET_SHEETS_DIR,
    Clause,
    Target,
    TargetSheet,
    list_target_sheets,
    load_target_sheet,
)

SEEDS_DIR = Path(__file__).resolve().parents[3] / "shared" / "seeds"
SEED_SHEETS = [
    "jiyuan-2027",
    "anyang-2023",
    "luoyang-2023",
    "xinxiang-gxq-2019",
    "zhengzhou-zhongyuan-2019",
]
TOL = 1e-9

# Checkable targets INDICATORS.md's "Target sheets in the seeds" table lists, per sheet:
# (indicator, params that must match, value). Written by hand from INDICATORS.md.
EXPECTED_CHECKABLE: dict[str, list[tuple[str, dict[str, Any], float]]] = {
    "jiyuan-2027": [
        ("road_density", {}, 6.1),
        ("park_area_per_resident", {}, 14.15),
        ("green_land_ratio", {}, 0.39),
        ("green_cover_ratio", {}, 0.4325),
        ("circle", {"name": "convenience"}, 1.0),  # 便民生活圈 full coverage
        ("units_complete", {"checklist": "wanzheng"}, 1.0),  # 完整社区 full coverage
        ("circle", {"name": "green_leisure", "radius_m": 300}, 1.0),  # 5-min green
        ("circle", {"name": "fitness", "radius_m": 1000}, 1.0),  # 15-min fitness
    ],
    "anyang-2023": [
        ("road_area_per_resident", {}, 22),
        ("green_land_ratio", {}, 0.38),
        ("park_service_coverage", {}, 0.8),
        ("park_area_per_resident", {}, 12),
        ("green_300m", {}, 1.0),
        ("park_500m", {}, 1.0),
        ("bus_stop_coverage", {"radius_m": 500}, 1.0),
        ("complete_life_circle", {}, 1.0),
        ("circle", {"name": "fitness"}, 1.0),
        ("circle", {"name": "reading"}, 1.0),
        ("circle", {"name": "shopping"}, 1.0),
        ("count_added", {"kind": "parking"}, 7),  # 7个便民停车场 (2021)
        ("count_added", {"kind": "food_market"}, 7),  # 2021年市区建成农贸市场7个
    ],
    "luoyang-2023": [
        ("road_area_per_resident", {}, 17),
        ("green_land_ratio", {}, 0.39),
        ("park_area_per_resident", {}, 15.7),
        ("park_service_coverage", {}, 0.9),
        ("bus_stop_coverage", {"radius_m": 500}, 1.0),
        ("complete_life_circle", {}, 1.0),
        ("circle", {"name": "fitness"}, 1.0),
        ("circle", {"name": "reading"}, 1.0),
        ("circle", {"name": "green_leisure"}, 1.0),  # 15分钟生态休闲圈
        # 游园 is a park (CJJ/T 85-2017 G14), not any green
        ("count_existing", {"kind": "park", "min_area_m2": 400, "max_area_m2": 10000}, 330),
        ("count_added", {"kind": "waste_transfer"}, 26),  # 新建26座生活垃圾中转站
        ("count_added", {"kind": "parking"}, 200),  # 新建公共停车场200个
        ("count_added", {"kind": "hospital"}, 4),  # 4 named hospitals 建成投用
    ],
    "xinxiang-gxq-2019": [
        ("road_density", {}, 7),
        ("road_area_ratio", {}, 0.12),
        ("green_land_ratio", {}, 0.30),
        ("green_land_ratio", {}, 0.356),
        ("green_cover_ratio", {}, 0.40),
        ("park_area_per_resident", {}, 8.5),
        ("park_area_per_resident", {}, 11),
        ("green_300m", {}, 1.0),
        ("park_500m", {}, 1.0),
        ("count_added", {"kind": "pocket_park"}, 9),
        ("circle", {"name": "fitness"}, 1.0),
        ("circle", {"name": "elderly_care"}, 1.0),
        ("count_added", {"kind": "health_centre"}, 1),  # in 振中街道 (area)
        ("count_added", {"kind": "road", "names": ("丰华街", "振中路", "纺织路")}, 3),
        ("count_added", {"kind": "road"}, 10),  # 10余条道路
    ],
    "zhengzhou-zhongyuan-2019": [
        ("complete_life_circle", {}, 1.0),
        ("circle", {"name": "medical"}, 1.0),
        ("circle", {"name": "fitness"}, 1.0),
        ("circle", {"name": "elderly_care"}, 1.0),
        ("count_added", {"kind": "park", "min_area_m2": 5000}, 5),
        ("count_added", {"kind": "micro_park", "max_area_m2": 5000}, 40),
        ("count_added", {"kind": "road"}, 5),
        ("count_per_unit", {"kind": "health_centre", "min_count": 1}, 1.0),
        ("area_added", {"kind": "green"}, 1_000_000),  # 新增绿地100万平方米
        ("count_added", {"kind": "park", "names": ("南水北调生态文化公园",)}, 1),
        ("area_added", {"kind": "green"}, 1),  # 三条铁路沿线绿化 (no figure)
    ],
}

# Targets INDICATORS.md lists that no indicator checks: (sheet, word in label_zh, value).
EXPECTED_NOT_CHECKABLE: list[tuple[str, str, float | str]] = [
    ("zhengzhou-zhongyuan-2019", "停车位", 13),
    ("jiyuan-2027", "城镇化率", 0.73),
]


def _seed_text(sheet: TargetSheet) -> str:
    if not SEEDS_DIR.is_dir():
        pytest.skip(f"seed documents not found at {SEEDS_DIR}")
    assert sheet.source.seed_file is not None
    return (SEEDS_DIR / sheet.source.seed_file).read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------
# Shipped sheets
# --------------------------------------------------------------------------------------------


#: the national sheets: standards' defaults, the 城市体检, the 完整居住社区 standard
NATIONAL_SHEETS = ["national", "chengshi-tijian", "wanzheng-shequ"]


def test_list_target_sheets_has_national_and_seeds() -> None:
    assert list_target_sheets() == sorted([*NATIONAL_SHEETS, *SEED_SHEETS])


@pytest.mark.parametrize("sheet_id", [*NATIONAL_SHEETS, *SEED_SHEETS])
def test_shipped_sheet_loads(sheet_id: str) -> None:
    sheet = load_target_sheet(sheet_id)
    assert sheet.id == sheet_id == sheet.path.stem
    assert sheet.targets
    first_line = sheet.path.read_text(encoding="utf-8").splitlines()[0]
    assert first_line.startswith("# Source:")
    for target in sheet.targets:
        if target.checkable:
            assert target.indicator is not None
            assert target.indicator in INDICATORS
            assert target.unit == INDICATORS[target.indicator].unit
            if target.op == "report":  # no figure: the document's words instead
                assert isinstance(target.value, str) and target.value.strip(), target.id
            elif target.unit == "share":
                values = target.value if isinstance(target.value, tuple) else (target.value,)
                assert all(0 <= float(v) <= 1 for v in values), target.id
        else:
            assert target.reason and target.reason.startswith("not checkable")
        if target.implied:
            assert target.note, f"{target.id}: implied values must say why in a note"


def test_load_by_path_equals_load_by_id() -> None:
    by_path = load_target_sheet(TARGET_SHEETS_DIR / "anyang-2023.yaml")
    assert by_path == load_target_sheet("anyang-2023")
    assert load_target_sheet(str(by_path.path)) == by_path


@pytest.mark.parametrize("sheet_id", SEED_SHEETS)
def test_seed_sheet_has_the_targets_indicators_md_lists(sheet_id: str) -> None:
    sheet = load_target_sheet(sheet_id)
    for indicator, params, value in EXPECTED_CHECKABLE[sheet_id]:
        matches = [
            t
            for t in sheet.checkable
            if t.indicator == indicator
            and all(t.params.get(k) == v for k, v in params.items())
            and math.isclose(float(t.value), value, abs_tol=TOL)  # type: ignore[arg-type]
        ]
        assert matches, f"{sheet_id}: no checkable {indicator} {params} = {value}"


@pytest.mark.parametrize(("sheet_id", "word", "value"), EXPECTED_NOT_CHECKABLE)
def test_seed_sheet_keeps_targets_a_map_cannot_check(
    sheet_id: str, word: str, value: float | str
) -> None:
    sheet = load_target_sheet(sheet_id)
    matches = [t for t in sheet.targets if not t.checkable and word in t.label_zh]
    assert matches, f"{sheet_id}: no non-checkable target about {word}"
    got = matches[0].value
    if isinstance(value, str):
        assert value in str(got)
    else:
        assert math.isclose(float(got), value, abs_tol=TOL)  # type: ignore[arg-type]


@pytest.mark.parametrize("sheet_id", SEED_SHEETS)
def test_every_clause_occurs_in_the_seed_document(sheet_id: str) -> None:
    sheet = load_target_sheet(sheet_id)
    text = _seed_text(sheet)
    for target in sheet.targets:
        assert target.clause.verbatim
        assert target.clause.text in text, f"{sheet_id}/{target.id}: clause not in the document"


@pytest.mark.parametrize("sheet_id", SEED_SHEETS)
def test_source_matches_the_seed_index(sheet_id: str) -> None:
    sheet = load_target_sheet(sheet_id)
    _seed_text(sheet)
    index = (SEEDS_DIR / "INDEX.md").read_text(encoding="utf-8")
    row = next(line for line in index.splitlines() if str(sheet.source.seed_file) in line)
    if sheet.source.doc_no:
        assert sheet.source.doc_no in row
    assert str(sheet.year) in row


@pytest.mark.parametrize("sheet_id", SEED_SHEETS)
def test_every_figure_in_a_seed_target_is_in_its_clause(sheet_id: str) -> None:
    """A stated (not implied) numeric target must show its figure in the quoted clause."""
    sheet = load_target_sheet(sheet_id)
    for t in sheet.targets:
        if t.implied or isinstance(t.value, str | tuple):
            continue
        figures = {float(x) for x in re.findall(r"\d+(?:\.\d+)?", t.clause.text)}
        candidates = {t.value, round(t.value * 100, 6)}
        if t.value >= 10000:
            candidates.add(t.value / 10000)  # 4.5万, 100万
        if math.isclose(t.value, 1 / 3, abs_tol=1e-3):
            continue  # 三分之一 is written in words
        if t.value == 1.0 and ("全覆盖" in t.clause.text or "全部" in t.clause.text):
            continue
        if t.value == 1.0 and "完成" in t.clause.text:
            continue  # 完成…改造 = all of them
        assert candidates & figures, f"{sheet_id}/{t.id}: {t.value} not in {t.clause.text!r}"


# --------------------------------------------------------------------------------------------
# Life circles
# --------------------------------------------------------------------------------------------


def test_life_circles_levels_and_circles() -> None:
    lc = load_life_circles()
    assert [lvl.radius_m for lvl in lc.levels.values()] == [300, 500, 1000]
    assert lc.includes_lower_levels is False
    assert set(lc.circles) == {
        "fitness",
        "reading",
        "medical",
        "elderly_care",
        "shopping",
        "green_leisure",
        "convenience",
        # one facility kind each, at its GB 50180-2018 level's radius (chengshi-tijian)
        "kindergarten",
        "nursery",
        "primary_school",
        "middle_school",
        "elderly_service",
        "sports_ground",
        "culture",
        "community_commerce",
        "community_service",
        "clinic",
        "public_space",
        "fire_station",
        "metro",
        "greenway",
    }
    radius = {k: c.radius_m for k, c in lc.circles.items()}
    assert radius["kindergarten"] == radius["nursery"] == lc.levels["5min"].radius_m
    assert radius["primary_school"] == radius["sports_ground"] == lc.levels["10min"].radius_m
    assert radius["middle_school"] == radius["culture"] == lc.levels["15min"].radius_m
    assert lc.circles["green_leisure"].radius_m == 300
    assert lc.circles["fitness"].radius_m == 1000
    assert "primary_school" in lc.levels["10min"].required
    assert "middle_school" in lc.levels["15min"].required
    assert "kindergarten" in lc.levels["5min"].required


def test_life_circles_use_only_taxonomy_keys_and_never_school_unknown() -> None:
    lc = load_life_circles()
    used: set[str] = set()
    groups = [(lvl.required, lvl.alternatives) for lvl in lc.levels.values()]
    groups += [(c.categories, c.alternatives) for c in lc.circles.values()]
    for cats, alternatives in groups:
        used.update(cats)
        for subs in alternatives.values():
            used.update(subs)
    assert used <= FACILITY_CATEGORIES
    assert "school_unknown" not in used
    assert any("school_unknown" in note for note in lc.notes)


def test_life_circles_unknown_category_names_file_and_level(tmp_path: Path) -> None:
    raw = yaml.safe_load(load_life_circles().path.read_text(encoding="utf-8"))
    raw["levels"]["10min"]["required"].append("swimming_pool")
    path = tmp_path / "lc.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(TargetSheetError, match=r"lc\.yaml: level 10min: .*'swimming_pool'"):
        load_life_circles(path)


# --------------------------------------------------------------------------------------------
# evaluate()
# --------------------------------------------------------------------------------------------


def _target(op: str, value: Any, *, checkable: bool = True) -> Target:
    return Target(
        id="t",
        label_zh="t",
        label_en="t",
        clause=Clause("一", "t"),
        checkable=checkable,
        value=value,
        indicator="park_500m" if checkable else None,
        op=op,  # type: ignore[arg-type]
        unit="share",
        reason=None if checkable else "not checkable from map data: test",
    )


@pytest.mark.parametrize(
    ("op", "value", "measured", "status", "gap"),
    [
        (">=", 0.8, 0.85, "pass", 0.05),
        (">=", 0.8, 0.8, "pass", 0.0),
        (">=", 0.8, 0.8 - 1e-12, "pass", -1e-12),  # float noise is not a failure
        (">=", 0.8, 0.62, "fail", -0.18),
        ("<=", 0.097, 0.12, "fail", 0.023),
        ("<=", 0.097, 0.05, "pass", -0.047),
        ("==", 1.0, 1.0, "pass", 0.0),
        ("==", 1.0, 0.99, "fail", -0.01),
        ("between", (0.3, 0.356), 0.32, "pass", 0.0),
        ("between", (0.3, 0.356), 0.25, "fail", -0.05),
        ("between", (0.3, 0.356), 0.4, "fail", 0.044),
    ],
)
def test_evaluate_hand_cases(op: str, value: Any, measured: float, status: str, gap: float) -> None:
    verdict = _target(op, value).evaluate(measured)
    assert verdict.status == status
    assert verdict.passed is (status == "pass")
    assert verdict.gap is not None
    assert math.isclose(verdict.gap, gap, abs_tol=1e-9)


@pytest.mark.parametrize("measured", [None, float("nan")])
def test_evaluate_no_data(measured: float | None) -> None:
    verdict = _target(">=", 0.8).evaluate(measured)
    assert (verdict.status, verdict.measured, verdict.gap) == ("no data", None, None)


def test_evaluate_not_checkable() -> None:
    verdict = _target(">=", 0.73, checkable=False).evaluate(0.9)
    assert verdict.status == "not checkable"
    assert verdict.gap is None


def test_evaluate_shipped_target() -> None:
    target = load_target_sheet("jiyuan-2027").get("road_density")
    verdict = target.evaluate(5.2)
    assert verdict.status == "fail"
    assert math.isclose(verdict.gap or 0.0, 5.2 - 6.1)


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------

GOOD_TARGET: dict[str, Any] = {
    "id": "park_cov",
    "label_zh": "公园绿地服务半径覆盖率",
    "label_en": "Park coverage",
    "clause": {"section": "一", "text": "公园绿地服务半径覆盖率达到80%以上"},
    "indicator": "park_service_coverage",
    "op": ">=",
    "value": 0.8,
    "unit": "share",
}


def _write_sheet(tmp_path: Path, **changes: Any) -> Path:
    target = {k: v for k, v in {**GOOD_TARGET, **changes}.items() if v is not None}
    sheet = {
        "id": "my-city-2025",
        "name_zh": "测试",
        "name_en": "Test",
        "year": 2025,
        "source": {"title": "test"},
        "targets": [target],
    }
    path = tmp_path / "my_city.yaml"
    path.write_text(yaml.safe_dump(sheet, allow_unicode=True), encoding="utf-8")
    return path


def test_user_sheet_loads(tmp_path: Path) -> None:
    sheet = load_target_sheet(_write_sheet(tmp_path))
    assert sheet.get("park_cov").evaluate(0.9).status == "pass"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"indicator": "park_coverage"}, r"unknown indicator 'park_coverage'; use one of: "),
        ({"op": ">"}, r"unknown op '>'; use one of: >=, <=, ==, between, report"),
        ({"op": "report"}, r"'report' needs value: the document's words for 'no figure'"),
        ({"value": None}, r"missing 'value'; add the target figure"),
        ({"value": "80%"}, r"'value' must be a number"),
        ({"unit": "percent"}, r"unit 'percent' does not match .*write unit: share"),
        ({"op": "between"}, r"'between' needs value: \[lo, hi\]"),
        ({"params": {"radius_m": 500}}, r"unknown param 'radius_m'.*allowed: none"),
        ({"indicator": None}, r"missing 'indicator'.*checkable: false"),
        ({"colour": "red"}, r"unknown target key\(s\) colour"),
        ({"checkable": False, "indicator": None}, r"missing 'reason'"),
    ],
)
def test_malformed_target_names_file_and_target(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    path = _write_sheet(tmp_path, **changes)
    with pytest.raises(TargetSheetError, match=message) as info:
        load_target_sheet(path)
    text = str(info.value)
    assert text.startswith(f"{path}: target 'park_cov': ")
    assert "\n" not in text


@pytest.mark.parametrize(
    ("indicator", "params", "message"),
    [
        ("bus_stop_coverage", {}, r"needs param 'radius_m'"),
        ("bus_stop_coverage", {"radius_m": 400}, r"radius_m=400 is not allowed; .*300, 500"),
        ("life_circle", {"level": "20min"}, r"level='20min' is not allowed"),
        ("circle", {"name": "swimming"}, r"unknown circle 'swimming'; use one of: fitness"),
    ],
)
def test_bad_params(tmp_path: Path, indicator: str, params: dict[str, Any], message: str) -> None:
    path = _write_sheet(tmp_path, indicator=indicator, params=params)
    with pytest.raises(TargetSheetError, match=message):
        load_target_sheet(path)


def test_invalid_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: x\ntargets: [\n  - id: a\n", encoding="utf-8")
    with pytest.raises(TargetSheetError, match=r"broken\.yaml: line \d+ is not valid YAML"):
        load_target_sheet(path)


def test_duplicate_target_id(tmp_path: Path) -> None:
    path = _write_sheet(tmp_path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    raw["targets"].append(raw["targets"][0])
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(TargetSheetError, match=r"target 'park_cov': duplicate target id"):
        load_target_sheet(path)


def test_unknown_sheet_id_lists_available() -> None:
    with pytest.raises(TargetSheetError, match=r"unknown target sheet 'kaifeng-2023'") as info:
        load_target_sheet("kaifeng-2023")
    for sheet_id in ["national", *SEED_SHEETS]:
        assert sheet_id in str(info.value)


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"nope\.yaml: target sheet file not found"):
        load_target_sheet(tmp_path / "nope.yaml")


def test_get_unknown_target_lists_ids() -> None:
    with pytest.raises(KeyError, match="road_density"):
        load_target_sheet("jiyuan-2027").get("no_such_target")
