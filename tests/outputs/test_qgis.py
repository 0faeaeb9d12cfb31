"""The QGIS package's CRS and styles (``geoplan.outputs.qgis``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pyproj
import pytest

from geoplan.outputs.qgis import categorized, china_crs, graduated_share, single


@pytest.mark.parametrize(
    ("lon", "lat", "cm"),
    [(113.65, 34.76, 114), (112.45, 34.62, 111), (104.07, 30.67, 105), (121.47, 31.23, 120)],
)
def test_china_crs_is_the_3_degree_zone_of_the_nearest_meridian(
    lon: float, lat: float, cm: int
) -> None:
    crs = china_crs(lon, lat)
    assert crs is not None
    # independent: the CRS's own description (pyproj) names the central meridian
    assert f"CM {cm}E" in crs.name and "CGCS2000" in crs.name
    params = crs.coordinate_operation.params
    lon_0 = next(p.value for p in params if p.name.lower() == "longitude of natural origin")
    assert lon_0 == cm
    # a point on the meridian projects to the false easting
    x, _ = pyproj.Transformer.from_crs(4490, crs, always_xy=True).transform(cm, lat)
    assert x == pytest.approx(500_000.0, abs=1e-6)


def test_china_crs_is_none_outside_china() -> None:
    assert china_crs(24.94, 60.17) is None  # Helsinki
    assert china_crs(-46.63, -23.55) is None  # São Paulo


def test_styles_are_well_formed_qml() -> None:
    for qml in (
        categorized("grade", "line", [("arterial", "主干路 & <x>", "<layer/>")]),
        graduated_share("share_15min"),
        single("fill", "<layer/>"),
    ):
        root = ET.fromstring(qml.split("?>", 1)[-1] if qml.startswith("<?xml") else qml)
        assert root.find(".//renderer-v2") is not None
    doc = categorized("grade", "line", [("arterial", "主干路 & <x>", "<layer/>")])
    cat = ET.fromstring(doc.split("?>", 1)[-1]).find(".//category")
    assert cat is not None and cat.get("label") == "主干路 & <x>"  # escaped, read back intact
