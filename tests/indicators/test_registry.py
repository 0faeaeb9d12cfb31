"""The indicator registry: parameters as data, sheet overrides, refusals, ``geoplan indicators``.

Override figures are checked against an independent shapely overlay (``_reference``), not against
geoplan's own output.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from _reference import buffer_cover_share
from tolerances import AREA_REL
from typer.testing import CliRunner

import geoplan
from geoplan.cli import app
from geoplan.indicators.registry import REGISTRY, resolve_params
from geoplan.scoring.targets import TARGET_SHEETS_DIR, load_target_sheet

DATA_FILE = Path(geoplan.__file__).parent / "data" / "indicators.yaml"


def test_every_indicator_and_parameter_is_declared_in_the_data_file() -> None:
    raw = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    raw = {k: v for k, v in raw.items() if not k.startswith("_")}  # parameter groups
    assert set(REGISTRY) == set(raw)
    for iid, spec in raw.items():
        ind = REGISTRY[iid]
        assert set(ind.params) == set(spec["parameters"] or {})
        for name, p in ind.params.items():
            assert p.source, f"{iid}.{name} has no source"
            assert p.minimum <= p.maximum
            if p.choices:
                assert p.default in p.choices, (iid, name)
            elif p.default is not None and not isinstance(p.default, tuple):
                assert p.minimum <= p.default <= p.maximum
        assert ind.reads, iid


def test_each_indicator_takes_one_typed_parameters_object_with_defaults_written_once() -> None:
    """Every parameter of the data file is a field of the indicator's parameters type with no
    default of its own (the data file's is the only one); both functions take that object."""
    import dataclasses
    import inspect

    for iid, ind in REGISTRY.items():
        fields = {f.name: f for f in dataclasses.fields(ind.params_type)}
        assert set(ind.params) <= set(fields), iid
        for name in ind.params:
            f = fields[name]
            assert f.default is dataclasses.MISSING, (iid, name)
            assert f.default_factory is dataclasses.MISSING, (iid, name)
        for fn in (ind.compute, ind.requests):
            if fn is None:
                continue
            sig = list(inspect.signature(fn).parameters.values())
            assert [q.name for q in sig][-1] == "params" and len(sig) <= 3, (iid, fn)
        built = ind.build({"name": "fitness"} if iid == "circle" else {})
        for name, p in ind.params.items():
            assert getattr(built, name) == p.default, (iid, name)


def test_pure_functions_default_to_the_registry() -> None:
    """The keyword options of the pure functions left out take the data file's default."""
    import inspect

    from geoplan.indicators import green_cover, roads

    for fn, name in (
        (roads.road_density, "pair_distance_m"),
        (roads.carriageway_weights, "pair_distance_m"),
        (roads.intersection_density, "tolerance_m"),
        (green_cover.green_cover_ratio, "ndvi_min"),
    ):
        assert inspect.signature(fn).parameters[name].default is None, fn
    assert (
        tuple(int(c) for c in REGISTRY["green_cover_ratio"].params["classes"].default)
        == green_cover.WORLDCOVER_GREEN
    )


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        (
            {"park_min_area_m": 1},
            r"unknown parameter of park_coverage 'park_min_area_m'; "
            r"did you mean 'park_min_area_m2'",
        ),
        ({"green_radius_m": -5}, r"green_radius_m = -5 is out of range \[50, 3000\] m"),
        ({"green_radius_m": "300"}, r"green_radius_m must be numbers"),
        ({"tiers": [5000, 500]}, r"tiers must be \[\[5000, 500\]\]"),
        ({"green_radius_m": [300]}, r"green_radius_m must be a number"),
    ],
)
def test_bad_parameters_are_refused_in_one_line(overrides: dict, match: str) -> None:
    with pytest.raises(geoplan.TargetSheetError, match=match) as exc:
        resolve_params("park_coverage", overrides, where="sheet.yaml")
    assert "\n" not in str(exc.value) and str(exc.value).startswith("sheet.yaml")


def test_unknown_indicator_in_a_sheet_names_the_file(tmp_path: Path) -> None:
    raw = yaml.safe_load((TARGET_SHEETS_DIR / "national.yaml").read_text(encoding="utf-8"))
    raw["parameters"] = {"park_coverge": {"park_radius_m": 400}}
    p = tmp_path / "mine.yaml"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(geoplan.TargetSheetError, match=r"mine.yaml.*did you mean 'park_coverage'"):
        load_target_sheet(p)


@pytest.fixture(scope="module")
def override_sheet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = yaml.safe_load((TARGET_SHEETS_DIR / "anyang-2023.yaml").read_text(encoding="utf-8"))
    raw["id"] = "anyang-2023-strict"
    raw["parameters"] = {
        "park_coverage": {
            "park_min_area_m2": 10000,
            "green_radius_m": 250,
            "tiers": [[10000, 500]],
        },
    }
    p = tmp_path_factory.mktemp("sheets") / "anyang-strict.yaml"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return p


def test_sheet_overrides_change_the_measure(chengdu: geoplan.City, override_sheet: Path) -> None:
    res = geoplan.check_city(chengdu, sheet=override_sheet)
    m = res.measures
    parks = chengdu.parks
    land = list(chengdu.residential.geometry.values)

    def buf(measure: str) -> float:
        r = m.loc[
            (m["measure"] == measure)
            & (m["method"] == "buffer")
            & (m["basis"] == "residential_area"),
            "value",
        ]
        assert len(r) == 1, measure
        return float(r.iloc[0])

    # 500米见园 with parks of at least 1 hm² only (independent overlay)
    big = parks.loc[(parks["green_kind"] == "park") & (parks["area_m2"] >= 10000)]
    assert 0 < len(big) < int((parks["green_kind"] == "park").sum())
    ref = buffer_cover_share(list(big.geometry.values), 500.0, land)
    assert buf("park_500") == pytest.approx(ref, rel=AREA_REL)
    # one service tier: parks of at least 1 hm² serve 500 m
    assert buf("park_service") == pytest.approx(ref, rel=AREA_REL)
    # 见绿 at 250 m: the measure is named by its radius and the target reads it
    green = parks.loc[parks["area_m2"] >= 400]
    ref_g = buffer_cover_share(list(green.geometry.values), 250.0, land)
    assert buf("green_250") == pytest.approx(ref_g, rel=AREA_REL)
    card = res.scorecard
    row = card.loc[(card["indicator"] == "green_300m") & (card["method"] == "buffer")]
    assert float(row["measured"].iloc[0]) == pytest.approx(ref_g, rel=AREA_REL)
    assert "green_300" not in set(m["measure"])
    # labels follow the parameters: a 250 m radius is not labelled 300米见绿
    labels = m.loc[m["measure"] == "green_250", ["label_zh", "label_en"]].drop_duplicates()
    assert labels.values.tolist() == [["250米见绿", "Green space within 250 m"]]
    assert set(res.coverage_layers["green_250_buffer"].label("zh").split("（")[:1]) == {"250米见绿"}


def test_cli_lists_every_indicator_with_defaults_and_sources() -> None:
    out = CliRunner().invoke(app, ["indicators"], env={"COLUMNS": "200"})
    assert out.exit_code == 0, out.output
    for iid, ind in REGISTRY.items():
        assert iid in out.output
        for name in ind.params:
            assert name in out.output
    assert "GB 50220-95" in out.output and "住建部 2021" in out.output
    bad = CliRunner().invoke(app, ["indicators", "parks"])
    assert bad.exit_code == 2
    assert "unknown indicator 'parks'" in bad.output and "Traceback" not in bad.output
