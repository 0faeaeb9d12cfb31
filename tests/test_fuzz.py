"""Fuzzing the readers and parsers: every outcome is a result or a :class:`geoplan.GeoplanError`.

Bounded (a few dozen examples each, no deadline) so that it runs inside the normal suite. Inputs
are real files mutated (the demo city's OSM XML, a plan-layer CSV, a bundled target sheet) and
scenario documents built from the real keys plus noise.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import geoplan
from geoplan.io.osm import read_osm
from geoplan.io.plan_layers import read_plan_layer
from geoplan.scenario.files import load_scenario_file
from geoplan.scoring.targets import TARGET_SHEETS_DIR, load_target_sheet

ROOT = Path(__file__).parents[1]
FUZZ = settings(
    max_examples=int(os.environ.get("GEOPLAN_FUZZ_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
XML = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
    '<node id="1" lat="30.690" lon="104.080"><tag k="amenity" v="kindergarten"/></node>\n'
    '<node id="2" lat="30.691" lon="104.082"/>\n<node id="3" lat="30.692" lon="104.083"/>\n'
    '<way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/></way>\n'
    "</osm>\n"
)


def _outcome(fn: Any, *args: Any, **kwargs: Any) -> None:
    """Run ``fn``: a result or a GeoplanError is fine; anything else fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # layer warnings (repairs, counts) are results too
        with contextlib.suppress(geoplan.GeoplanError):
            fn(*args, **kwargs)


@FUZZ
@given(st.data())
def test_osm_reader_on_mutated_xml(tmp_path: Path, data: st.DataObject) -> None:
    text = XML
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(text)))
        j = data.draw(st.integers(i, min(len(text), i + 12)))
        text = text[:i] + data.draw(st.text(max_size=8)) + text[j:]
    p = tmp_path / "m.osm"
    p.write_text(text, encoding="utf-8")
    _outcome(read_osm, p)
    _outcome(geoplan.load_city, p)


@FUZZ
@given(st.binary(max_size=400))
def test_osm_reader_on_random_bytes(tmp_path: Path, blob: bytes) -> None:
    p = tmp_path / "r.osm.pbf"
    p.write_bytes(blob)
    _outcome(geoplan.load_city, p)


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.one_of(st.floats(allow_nan=True), st.text(max_size=6)),
            st.one_of(st.floats(allow_nan=True), st.text(max_size=6)),
            st.text(max_size=6),
        ),
        max_size=6,
    ),
    st.sampled_from(["lon,lat,name", "lng,lat,name", "经度,纬度,名称", "x,y,name", "a,b,c"]),
)
def test_plan_layer_reader_on_junk_csv(
    tmp_path: Path, rows: list[tuple[Any, Any, str]], header: str
) -> None:
    p = tmp_path / "stops.csv"
    body = "\n".join(",".join(str(v).replace(",", " ").replace("\n", " ") for v in r) for r in rows)
    p.write_text(header + "\n" + body + "\n", encoding="utf-8")
    _outcome(read_plan_layer, p, kind="bus_stops")


SCENARIO_KEYS = ["name", "description", "city", "targets", "units", "changes", "chnages"]
CHANGE_VALUES = st.one_of(
    st.sampled_from(["parks", "roads", "bus_stops", "facilities", "residential", "park", 3, None]),
    st.text(max_size=10),
)


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(SCENARIO_KEYS),
        st.one_of(
            st.text(max_size=10),
            st.integers(),
            st.lists(
                st.dictionaries(
                    st.sampled_from(
                        ["add", "remove", "layer", "coord_system", "snap_m", "ids", "all"]
                    ),
                    CHANGE_VALUES,
                    max_size=4,
                ),
                max_size=3,
            ),
            st.dictionaries(st.sampled_from(["osm", "boundary", "grid_m", "crs"]), CHANGE_VALUES),
        ),
        max_size=6,
    )
)
def test_scenario_parser(tmp_path: Path, doc: dict[str, Any]) -> None:
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    _outcome(load_scenario_file, p)


SHEET = yaml.safe_load((TARGET_SHEETS_DIR / "anyang-2023.yaml").read_text(encoding="utf-8"))


@FUZZ
@given(st.data())
def test_target_sheet_parser_on_mutated_sheets(tmp_path: Path, data: st.DataObject) -> None:
    raw = yaml.safe_load(yaml.safe_dump(SHEET))
    for _ in range(data.draw(st.integers(1, 3))):
        t = raw["targets"][data.draw(st.integers(0, len(raw["targets"]) - 1))]
        key = data.draw(st.sampled_from(["value", "op", "unit", "indicator", "params", "id", "x"]))
        t[key] = data.draw(
            st.one_of(
                st.floats(allow_nan=True, allow_infinity=True),
                st.integers(-1000, 1000),
                st.text(max_size=8),
                st.none(),
                st.lists(st.floats(allow_nan=False), max_size=3),
            )
        )
    p = tmp_path / "sheet.yaml"
    p.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    _outcome(load_target_sheet, p)


def test_fuzz_inputs_are_real() -> None:
    """The seeds the fuzzers mutate are valid inputs themselves."""
    assert load_target_sheet(TARGET_SHEETS_DIR / "anyang-2023.yaml").targets
    p = ROOT / "layers" / "demo_bus_stops_network.csv"
    assert len(read_plan_layer(p, kind="bus_stops").gdf) >= 1


@pytest.fixture
def tmp_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder per example (hypothesis reruns the test body in one pytest call)."""
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(
    st.lists(
        st.tuples(
            st.text(max_size=6),
            st.one_of(
                st.sampled_from(["141203", "050100", "0602", "abc", ""]), st.text(max_size=7)
            ),
            st.one_of(st.floats(allow_nan=True), st.text(max_size=8)),
        ),
        max_size=6,
    ),
    st.sampled_from(["名称,typecode,location", "name,tag,location", "name,type,location"]),
)
def test_poi_reader_on_junk_exports(
    tmp_path: Path, rows: list[tuple[str, str, Any]], header: str
) -> None:
    from geoplan.io.poi import read_pois

    p = tmp_path / "pois.csv"
    body = "\n".join(
        ",".join(str(v).replace(",", ";").replace("\n", " ").replace('"', "") for v in r[:2])
        + f',"{r[2]},{r[2]}"'
        for r in rows
    )
    p.write_text(header + "\n" + body + "\n", encoding="utf-8")
    _outcome(read_pois, p)
