"""Detect a plan layer drawn on AMap / Tencent (GCJ-02) but declared as WGS84.

GCJ-02 coordinates are WGS84 shifted by a few hundred metres in China (300–600 m in the Henan and
Sichuan cities of the seed plans). A real layer passed without ``coord_system: gcj02`` lands that
far from what it depicts: existing parks, roads or stops would be counted as new ones. The check
compares the layer with the city's own OSM features of the same kind, as given and as converted
from GCJ-02: when the converted layer matches OSM much better, the layer is GCJ-02.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray

from geoplan.io import coords
from geoplan.io.projection import WGS84

#: a plan feature "matches" OSM when it lies within this distance (m) of a feature of its kind
MATCH_M = 25.0
#: at least this share of the layer must match after conversion, and clearly more than as given
MIN_SHARE = 0.5
MIN_FEATURES = 3


@dataclass(frozen=True)
class OffsetVerdict:
    """How a layer matches the city's OSM features as given and as converted from GCJ-02."""

    n: int
    as_given: float
    from_gcj02: float
    shift_m: float

    @property
    def looks_gcj02(self) -> bool:
        """The layer fits OSM only once converted from GCJ-02.

        Returns
        -------
        bool
        """
        return (
            self.n >= MIN_FEATURES
            and self.from_gcj02 >= MIN_SHARE
            and self.from_gcj02 >= 2 * self.as_given + 0.1
        )


def _gcj_to_wgs(xy: NDArray[np.float64]) -> NDArray[np.float64]:
    lon, lat = coords.gcj02_to_wgs84(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


def _share_near(
    geoms: NDArray[np.object_], ref: NDArray[np.object_], crs: pyproj.CRS, tol_m: float
) -> float:
    g = gpd.GeoSeries(geoms, crs=WGS84).to_crs(crs).values
    r = gpd.GeoSeries(ref, crs=WGS84).to_crs(crs).values
    i, _ = shapely.STRtree(r).query(g, predicate="dwithin", distance=tol_m)
    return float(np.unique(i).size / len(g))


def gcj02_offset(
    layer_wgs84: gpd.GeoDataFrame, reference_wgs84: gpd.GeoDataFrame, crs: pyproj.CRS
) -> OffsetVerdict | None:
    """Compare ``layer`` with ``reference`` (OSM features of its kind), both in WGS84.

    Returns ``None`` when there is nothing to compare (no reference feature, or the layer is
    outside China where GCJ-02 does not apply).

    Parameters
    ----------
    layer_wgs84
        The planner's layer, read as WGS84.
    reference_wgs84
        OSM features of the same kind (WGS84).
    crs
        Metric CRS the distances are measured in.

    Returns
    -------
    OffsetVerdict or None
        ``None`` when too few features can be compared.
    """
    geoms = np.asarray(layer_wgs84.geometry.values, dtype=object)
    ref = np.asarray(reference_wgs84.geometry.values, dtype=object)
    if geoms.size == 0 or ref.size == 0:
        return None
    c = shapely.centroid(geoms)
    if not coords.in_china(shapely.get_x(c), shapely.get_y(c)).any():
        return None
    fixed = shapely.transform(geoms, _gcj_to_wgs)
    shift = gpd.GeoSeries(
        [shapely.centroid(geoms[0]), shapely.centroid(fixed[0])], crs=WGS84
    ).to_crs(crs)
    return OffsetVerdict(
        n=int(geoms.size),
        as_given=_share_near(geoms, ref, crs, MATCH_M),
        from_gcj02=_share_near(fixed, ref, crs, MATCH_M),
        shift_m=float(shift.iloc[0].distance(shift.iloc[1])),
    )
