"""Parks and green: 公园绿地服务半径覆盖率, 300米见绿、500米见园, 绿地率, 人均公园绿地面积."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geoplan.indicators.access import Access, Request
from geoplan.indicators.cover import Area, CellsArea
from geoplan.indicators.coverage import (
    IndicatorResult,
    Measure,
    buffer_home_rows,
    coverage_layer,
    measure_row,
    network_rows,
    no_data_rows,
    overlap_area,
    residential_land,
    summary_frame,
    union_of_buffers,
)
from geoplan.indicators.gaps import Reach
from geoplan.indicators.inputs import Inputs
from geoplan.names import (
    PARK_SERVICE,
    Basis,
    CoverageLayer,
    Method,
    coverage_key,
    green_measure,
    park_measure,
    park_set_key,
)
from geoplan.network.gates import entrance_reach
from geoplan.rules.barriers import barrier_rules


@dataclass(frozen=True, slots=True)
class ParkParams:
    """Parameters of :func:`park_coverage` (defaults, units, sources: ``indicators.yaml``).

    Attributes
    ----------
    tiers
        ``((min_area_m2, radius_m), …)``: the service-radius size classes.
    green_radius_m, green_min_area_m2
        300米见绿: public green of at least this area (m²) within this radius (m).
    park_radius_m, park_min_area_m2
        500米见园: a park of at least this area (m²) within this radius (m).
    size_from
        ``whole`` or ``inside``: which area decides a park's size class.
    boundary_step_m
        Spacing (m) of the outline points that find the edges nearest each park.
    grid_spacing_m
        Grid spacing (m) of the network coverage areas drawn on maps.
    reach
        ``entrances``: a park with mapped gates or entrances near its outline, or walkable ways
        crossing it, is reached only there (:mod:`geoplan.network.gates`); ``outline``: every
        park anywhere on its outline.
    """

    tiers: tuple[tuple[float, float], ...]
    green_radius_m: float
    green_min_area_m2: float
    park_radius_m: float
    park_min_area_m2: float
    size_from: Literal["whole", "inside"]
    boundary_step_m: float
    grid_spacing_m: float
    reach: Literal["entrances", "outline"]


def park_size_m2(parks: gpd.GeoDataFrame, size_from: str) -> NDArray[np.float64]:
    """Area (m²) deciding each park's size class: ``whole`` park or the part ``inside``.

    Parameters
    ----------
    parks
        Parks and green (metric CRS) with ``area_m2`` (and ``area_in_boundary_m2``).
    size_from
        ``whole`` or ``inside``.

    Returns
    -------
    ndarray
        Area (m²) per park.
    """
    col = "area_in_boundary_m2" if size_from == "inside" else "area_m2"
    if col not in parks.columns:
        col = "area_m2"
    return parks[col].to_numpy(dtype=float)


def _park_sets(
    parks: gpd.GeoDataFrame, p: ParkParams
) -> list[tuple[str, NDArray[np.bool_], float]]:
    """(request key, mask over ``parks``, radius) of every park source set, tiers first.

    ``size_from``: a park's size is its whole area (``area_m2``) or only the part inside the
    study boundary (``area_in_boundary_m2``).
    """
    area = park_size_m2(parks, p.size_from)
    is_park = (parks["green_kind"] == "park").to_numpy()
    out = []
    upper = np.inf
    for min_area, radius in sorted(p.tiers, key=lambda t: -t[0]):
        tier = is_park & (area >= min_area) & (area < upper)
        out.append((park_set_key("tier", min_area), tier, radius))
        upper = min_area
    green = area >= p.green_min_area_m2
    out.append((park_set_key("green", p.green_min_area_m2), green, p.green_radius_m))
    park = is_park & (area >= p.park_min_area_m2)
    out.append((park_set_key("park", p.park_min_area_m2), park, p.park_radius_m))
    return out


def access_geometries(
    inputs: Inputs, params: ParkParams
) -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
    """Where the network reaches each park: its entrances, or its outline.

    Parameters
    ----------
    inputs
        The city's layers (``parks``, ``gates``, ``network``).
    params
        The indicator's parameters (``reach``).

    Returns
    -------
    geoms : ndarray
        Per park, a MultiPoint of its entrances or its polygon.
    at_entrances : ndarray of bool
        Per park, whether it is reached at entrances.
    """
    parks = inputs.city.parks
    if params.reach == "outline" or not len(parks):
        return np.asarray(parks.geometry.values, dtype=object), np.zeros(len(parks), dtype=bool)
    return entrance_reach(
        parks,
        inputs.city.network,
        inputs.city.gates,
        gate_outline_m=barrier_rules().gate_outline_m,
    )


def _reach_note(inputs: Inputs, params: ParkParams, mask: NDArray[np.bool_]) -> str:
    """How the parks of a set are reached on foot: at entrances, along the outline (counts)."""
    if params.reach == "outline":
        return f"walking reaches {int(mask.sum())} green areas anywhere on their outline"
    at = access_geometries(inputs, params)[1][mask]
    return (
        f"walking reaches {int(at.sum())} of these green areas at mapped entrances or path "
        f"crossings, {int((~at).sum())} (none mapped) anywhere on their outline"
    )


def park_requests(inputs: Inputs, params: ParkParams) -> dict[str, Request]:
    """The park source sets :func:`park_coverage` reads (one per tier, green, park).

    Parameters
    ----------
    inputs
        The city's layers (``parks``, metric CRS) and homes.
    params
        The indicator's parameters.

    Returns
    -------
    dict
        ``{set key: Request}``.
    """
    parks = inputs.city.parks
    geoms = access_geometries(inputs, params)[0]
    return {
        key: Request(geoms[mask], float(radius), params.boundary_step_m, params.grid_spacing_m)
        for key, mask, radius in _park_sets(parks, params)
    }


@dataclass
class _Out:
    """What :func:`park_coverage` gathers: rows, per-home flags, coverage areas and layers."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    per_home: dict[str, Any] = field(default_factory=dict)
    geo: dict[str, Area] = field(default_factory=dict)
    layers: dict[str, CoverageLayer] = field(default_factory=dict)
    reach: dict[str, Reach] = field(default_factory=dict)

    def add_geometries(
        self,
        m: Measure,
        cover: Area,
        net_cover: CellsArea | None,
        radius_m: float | None,
        family: str,
    ) -> None:
        for method, g in ((Method.BUFFER, cover), (Method.NETWORK, net_cover)):
            if g is None or g.is_empty:
                continue
            key = coverage_key(m.measure, method)
            self.geo[key] = g
            self.layers[key] = coverage_layer(
                m.measure,
                method,
                family=family,
                radius_m=radius_m,
                label_zh=m.label_zh,
                label_en=m.label_en,
            )

    def add_rows(
        self,
        m: Measure,
        share: float | None,
        buffer_flags: NDArray[np.bool_],
        network_flags: NDArray[np.bool_],
        homes: gpd.GeoDataFrame,
    ) -> None:
        """The buffer (land, homes, residents) and network rows and flags of one measure.

        Parameters
        ----------
        m
            The measure.
        share
            Buffer share of residential land (0–1), or ``None``.
        buffer_flags, network_flags
            Per home: inside the buffer cover; within the walking radius.
        homes
            The homes (``area_m2``, ``residents``).
        """
        self.per_home[coverage_key(m.measure, Method.NETWORK)] = network_flags
        self.per_home[coverage_key(m.measure, Method.BUFFER)] = buffer_flags
        self.rows.append(measure_row(m, Method.BUFFER, Basis.RESIDENTIAL_AREA, share))
        self.rows += buffer_home_rows(m, buffer_flags, homes)
        self.rows += network_rows(m, network_flags, homes)


def _network_cover(
    access: Access, inputs: Inputs, keys_radii: Sequence[tuple[str, float]], spacing_m: float
) -> CellsArea | None:
    """The grid cells within walking distance of any of the sets (the map's network area)."""
    grid = access.grids.get(float(spacing_m))
    if grid is None:
        return None
    g = np.zeros(grid.cells.shape[0], dtype=bool)
    for key, radius in keys_radii:
        g |= access.grid_m.get(key, np.full(g.shape, np.inf)) <= radius
    if not g.any():
        return None
    return CellsArea.of(grid.ends, grid.shape, grid.cells, g, spacing_m, inputs.boundary)


def park_coverage(access: Access, inputs: Inputs, params: ParkParams) -> IndicatorResult:
    """公园绿地服务半径覆盖率 and "300米见绿、500米见园".

    - service coverage: parks ≥ 5000 m² serve 500 m, 2000–5000 m² serve 300 m (``tiers`` =
      ``(min_area_m2, radius_m)``, largest first; smaller parks do not count); buffer = residential
      land within a tier radius of a park's boundary ÷ residential land (城市体检 2021);
    - 300米见绿: any public green space ≥ ``green_min_area_m2`` within ``green_radius_m``;
    - 500米见园: a park (``green_kind == "park"``) ≥ ``park_min_area_m2`` within ``park_radius_m``.

    Park size uses the whole feature's area (``area_m2``, ``size_from="whole"``, the default),
    also for parks cut by the boundary; ``size_from="inside"`` uses only the part inside it.
    Network distances reach parks at their edge (:func:`geoplan.network.access.facility_sources`,
    sampled every ``boundary_step_m``) and come from the access stage (:func:`park_requests`).

    Parameters
    ----------
    access
        The access stage's distances.
    inputs
        The city's layers (``parks`` with ``area_m2`` and ``green_kind``) and homes, metric CRS.
    params
        Size classes (m²), radii (m), ``size_from``, outline step and grid spacing (m); see
        :class:`ParkParams` and ``indicators.yaml``.

    Returns
    -------
    IndicatorResult
        Buffer and network rows of ``park_service``, ``green_<r>``, ``park_<r>``; per-home flags of
        both methods; coverage areas of both methods.
    """
    homes, parks = inputs.homes, inputs.city.parks
    land = residential_land(inputs.city.residential)
    geoms = np.asarray(parks.geometry.values, dtype=object)
    sets = _park_sets(parks, params)
    out = _Out()
    spacing = params.grid_spacing_m

    # service-radius coverage, tiered
    tier_sets = sets[: len(params.tiers)]
    covered = np.zeros(len(homes), dtype=bool)
    radii = np.zeros(len(parks))
    for key, mask, radius in tier_sets:
        radii[mask] = radius
        covered |= access.home(key) <= radius
    served = radii > 0
    tier_note = "; ".join(f"≥{a:g} m² → {r:g} m" for a, r in params.tiers)
    tier_note += "; " + _reach_note(inputs, params, served)
    m = Measure(
        "park_service_coverage",
        PARK_SERVICE,
        "公园绿地服务半径覆盖率",
        "Park service-radius coverage",
        note=tier_note,
    )
    if not served.any():
        out.per_home[coverage_key(PARK_SERVICE, Method.NETWORK)] = covered
        out.rows += no_data_rows(m, "no data: no park in a size tier")
    else:
        cover = inputs.buffers(geoms[served], radii[served])
        share = cover.share(land)
        out.reach[PARK_SERVICE] = Reach(geoms[served], radii[served].astype(float))
        net = _network_cover(access, inputs, [(k, r) for k, _, r in tier_sets], spacing)
        out.add_geometries(m, cover, net, None, "park")
        out.add_rows(m, share, cover.inside(homes), covered, homes)

    (gkey, gmask, _), (pkey, pmask, _) = sets[-2], sets[-1]
    gr, pr = params.green_radius_m, params.park_radius_m
    for m, key, mask, radius, family in (
        # labels follow the parameters (a sheet may say 400 m)
        (
            Measure(
                "green_300m", green_measure(gr), f"{gr:g}米见绿", f"Green space within {gr:g} m"
            ),
            gkey,
            gmask,
            gr,
            "green",
        ),
        (
            Measure("park_500m", park_measure(pr), f"{pr:g}米见园", f"Park within {pr:g} m"),
            pkey,
            pmask,
            pr,
            "park",
        ),
    ):
        if not mask.any():
            out.rows += no_data_rows(m, "no data: no such green space")
            continue
        m = replace(m, note=_reach_note(inputs, params, mask))
        cover = inputs.buffers(geoms[mask], radius)
        share = cover.share(land)
        out.reach[m.measure] = Reach(geoms[mask], np.full(int(mask.sum()), float(radius)))
        net = _network_cover(access, inputs, [(key, radius)], spacing)
        out.add_geometries(m, cover, net, radius, family)
        out.add_rows(m, share, cover.inside(homes), access.home(key) <= radius, homes)
    return IndicatorResult(
        "park_coverage",
        pd.DataFrame(out.per_home, index=homes.index),
        summary_frame(out.rows),
        out.geo,
        out.layers,
        out.reach,
    )


def green_land_ratio(parks: gpd.GeoDataFrame, boundary: BaseGeometry) -> IndicatorResult:
    """绿地率 (OSM approximation).

    Area of public green (parks and other green, overlaps counted once) inside the boundary ÷
    boundary area. CJJ/T 85-2017 counts G1+G2+G3 share+XG; OSM rarely maps 附属绿地 (green inside
    compounds), so this is a lower bound.

    Parameters
    ----------
    parks
        Public green polygons (metric CRS).
    boundary
        The area of the ratio (metric CRS).

    Returns
    -------
    IndicatorResult
        One row, a share.
    """
    # overlaps counted once: the union of the green (memoised, only meeting polygons overlaid)
    g = union_of_buffers(np.asarray(parks.geometry.values, dtype=object), 0.0)
    v = overlap_area(g, boundary) / boundary.area if boundary.area else None
    if not len(parks):
        v = None  # no green in the data is "no data", not a ratio of 0
    m = Measure(
        "green_land_ratio",
        "green_land_ratio",
        "绿地率（OSM近似）",
        "Green land ratio (OSM approximation)",
    )
    note = (
        "lower bound: OSM rarely maps green inside compounds"
        if v is not None
        else "no data: no public green in the data"
    )
    row = measure_row(m, "area", "boundary_area", v, note=note)
    return IndicatorResult("green_land_ratio", pd.DataFrame(), summary_frame([row]))


def park_area_per_resident(
    parks: gpd.GeoDataFrame, residents: float | None, study_area: BaseGeometry
) -> IndicatorResult:
    """人均公园绿地面积 (m²/person): park area in the study area ÷ its residents.

    Parameters
    ----------
    parks
        Public green (metric CRS); those with ``green_kind == "park"`` count.
    residents
        Residents of the study area (``None`` / 0: no population given → "no data").
    study_area
        The study area polygon (metric CRS).

    Returns
    -------
    IndicatorResult
        One row, m²/person. Overlapping parks count once (the area of their union inside the
        study area): a garden mapped inside a park is not park area twice (GB 50137 / CJJ/T 85
        count land, not features).
    """
    park = parks.loc[parks["green_kind"] == "park"] if len(parks) else parks
    has_parks = bool(len(park))
    park_area = 0.0
    if has_parks:
        union = union_of_buffers(np.asarray(park.geometry.values, dtype=object), 0.0)
        park_area = overlap_area(union, study_area)
    v = park_area / residents if residents and has_parks else None
    note = ""
    if not residents:
        note = "no data: needs population"
    elif not has_parks:
        note = "no data: no park in the data (a figure of 0 would be a verdict on missing data)"
    m = Measure(
        "park_area_per_resident",
        "park_area_per_resident",
        "人均公园绿地面积",
        "Park area per resident",
        unit="m2/person",
    )
    row = measure_row(m, "area", "residents", v, note=note)
    return IndicatorResult("park_area_per_resident", pd.DataFrame(), summary_frame([row]))
