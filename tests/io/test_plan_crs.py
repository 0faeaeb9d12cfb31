"""Coordinate systems of plan layers (``geoplan.io.plan_crs``): the CRS chosen, and coordinates
that cannot be in it refused in one line (Chengdu's stops written in real CRSs)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from pyproj import CRS

import geoplan
from geoplan._errors import CRSError
from geoplan.io.plan_crs import Where, check_coordinates_fit, looks_lonlat, resolve_crs

WHERE = Where(Path("规划.gpkg"), "bus", "plan")


def test_looks_lonlat() -> None:
    assert looks_lonlat((104.0, 30.6, 104.1, 30.7))
    assert not looks_lonlat((411_000.0, 3_390_000.0, 415_000.0, 3_395_000.0))
    assert not looks_lonlat((float("nan"), 0.0, 1.0, 1.0))


def test_the_crs_is_the_files_then_the_argument_then_lonlat(chengdu: geoplan.City) -> None:
    wgs = chengdu.bus_stops[["geometry"]].to_crs(4326)
    gk = CRS.from_epsg(4544)  # CGCS2000 / 3-degree Gauss-Kruger CM 105E (Chengdu)
    assert resolve_crs(gk, None, wgs.to_crs(gk), "gpkg", WHERE) == (gk, "file")
    assert resolve_crs(None, gk, wgs.to_crs(gk), "csv", WHERE) == (gk, "argument")
    crs, how = resolve_crs(None, None, wgs.set_crs(None, allow_override=True), "csv", WHERE)
    assert how == "assumed" and crs.to_epsg() == 4326


def test_coordinates_that_cannot_be_in_the_crs_are_refused(chengdu: geoplan.City) -> None:
    wgs = chengdu.bus_stops[["geometry"]].to_crs(4326)
    metric = wgs.to_crs(4544)
    check_coordinates_fit(wgs, CRS.from_epsg(4326), "file", WHERE)
    check_coordinates_fit(metric, CRS.from_epsg(4544), "file", WHERE)
    raw = gpd.GeoDataFrame(geometry=metric.geometry.values)  # metres said to be degrees
    with pytest.raises(CRSError, match=r"规划\.gpkg, plan layer 'bus': coordinates .* not degrees"):
        check_coordinates_fit(raw, CRS.from_epsg(4326), "argument", WHERE)
    with pytest.raises(CRSError) as err:  # degrees said to be Gauss-Krüger metres
        check_coordinates_fit(wgs, CRS.from_epsg(4544), "file", WHERE)
    assert "\n" not in str(err.value) and "规划.gpkg" in str(err.value)
