"""Gated compounds (小区) from a planner's file: AOI outlines and their entrances (出入口).

AMap / Baidu AOI exports give each 小区 as a polygon and its 出入口 as POI points; OSM rarely maps
compound walls in Chinese cities. One vector file holds both: polygon features are the compounds,
point features their entrances. An entrance belongs to every compound whose outline it lies within
``entrance_m`` of (AOI outlines and 出入口 points are drawn independently, metres apart).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray

from geoplan._errors import LayerError
from geoplan.io.plan_crs import CoordSystem
from geoplan.io.plan_layers import read_plan_layer


@dataclass(frozen=True)
class Compounds:
    """Gated compounds: their outlines and entrances (metric CRS).

    Attributes
    ----------
    polygons
        Compound outlines.
    entrances
        Per compound, an (k, 2) array of its entrance coordinates (m), ``k >= 1``.
    source
        ``osm`` (walled residential parcels) or the file they came from.
    walled_without_entrances
        Walled parcels with no mapped gate or crossing: they keep the nearest-street rule.
    """

    polygons: NDArray[np.object_]
    entrances: tuple[NDArray[np.float64], ...]
    source: str
    walled_without_entrances: int = 0

    def __len__(self) -> int:
        """Number of compounds.

        Returns
        -------
        int
        """
        return int(self.polygons.shape[0])

    @property
    def n_entrances(self) -> int:
        """Number of entrances of all compounds.

        Returns
        -------
        int
        """
        return int(sum(e.shape[0] for e in self.entrances))


#: an 出入口 point this close (m) to a compound outline is one of its entrances
ENTRANCE_M = 30.0


def read_compounds(
    path: str | os.PathLike[str],
    crs: pyproj.CRS,
    *,
    coord_system: CoordSystem = "wgs84",
    entrance_m: float = ENTRANCE_M,
) -> Compounds:
    """Read compounds and their entrances from one vector file.

    Parameters
    ----------
    path
        A ``.gpkg``, ``.geojson``, ``.shp`` file (one layer) with polygon features (the
        compounds) and point features (their entrances).
    crs
        Metric CRS of the city.
    coord_system
        ``gcj02`` for AMap exports, ``bd09`` for Baidu, ``wgs84`` otherwise.
    entrance_m
        An entrance belongs to a compound when within this distance (m) of its outline.

    Returns
    -------
    Compounds
        Compounds with at least one entrance; the others are counted in
        ``walled_without_entrances`` and keep the nearest-street rule.

    Raises
    ------
    LayerError
        The file holds no polygon or no point (a compounds file needs both).
    """
    layer = read_plan_layer(
        path,
        coord_system=coord_system,
        kind="compounds",
        geometry_types=("Polygon", "Point"),
    )
    gdf = layer.gdf.to_crs(crs)
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    tid = shapely.get_type_id(geoms)
    polys = geoms[np.isin(tid, (3, 6))]
    points = geoms[np.isin(tid, (0, 4))]
    if not polys.size:
        raise LayerError(f"{path}: no compound outline (小区 polygon); add the AOI polygons")
    if not points.size:
        raise LayerError(
            f"{path}: no entrance (出入口 point); add the compounds' gates as point features"
        )
    pts = shapely.get_parts(points)
    ip, ic = shapely.STRtree(shapely.boundary(polys)).query(
        pts, predicate="dwithin", distance=entrance_m
    )
    xy = shapely.get_coordinates(pts)
    ent = [xy[ip[ic == c]] for c in range(polys.shape[0])]
    has = np.array([e.shape[0] > 0 for e in ent], dtype=bool)
    return Compounds(
        polys[has],
        tuple(np.unique(e, axis=0) for e, h in zip(ent, has, strict=True) if h),
        str(path),
        int((~has).sum()),
    )
