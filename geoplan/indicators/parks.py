"""Parks and green: 公园绿地服务半径覆盖率, 300米见绿、500米见园, 绿地率, 人均公园绿地面积."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geoplan.indicators.access import Access, Request
from geoplan.indicators.coverage import (
    IndicatorResult,
    buffer_home_rows,
    buffer_share,
    coverage_layer,
    inside_flags,
    measure_row,
    network_rows,
    no_data_rows,
    overlap_area,
    residential_land,
    summary_frame,
    union_of_buffers,
)
from geoplan.indicators.grid import cells_polygon
from geoplan.indicators.inputs import Inputs
from geoplan.names import (
    PARK_SERVICE,
    Basis,
    Method,
    coverage_key,
    green_measure,
    park_measure,
    park_set_key,
)

DEFAULT_TIERS: tuple[tuple[float, float], ...] = ((5000.0, 500.0), (2000.0, 300.0))


def park_size_m2(parks: gpd.GeoDataFrame, size_from: str) -> NDArray[np.float64]:
    """Area (m²) deciding each park's size class: ``whole`` park or the part ``inside``."""
    col = "area_in_boundary_m2" if size_from == "inside" else "area_m2"
    if col not in parks.columns:
        col = "area_m2"
    return parks[col].to_numpy(dtype=float)


def _park_sets(
    parks: gpd.GeoDataFrame,
    *,
    tiers: Sequence[tuple[float, float]],
    green_radius_m: float,
    green_min_area_m2: float,
    park_radius_m: float,
    park_min_area_m2: float,
    size_from: str = "whole",
) -> list[tuple[str, NDArray[np.bool_], float]]:
    """(request key, mask over ``parks``, radius) of every park source set, tiers first.

    ``size_from``: a park's size is its whole area (``area_m2``) or only the part inside the
    study boundary (``area_in_boundary_m2``).
    """
    area = park_size_m2(parks, size_from)
    is_park = (parks["green_kind"] == "park").to_numpy()
    out = []
    upper = np.inf
    for min_area, radius in sorted(tiers, key=lambda t: -t[0]):
        tier = is_park & (area >= min_area) & (area < upper)
        out.append((park_set_key("tier", min_area), tier, radius))
        upper = min_area
    green = area >= green_min_area_m2
    out.append((park_set_key("green", green_min_area_m2), green, green_radius_m))
    park = is_park & (area >= park_min_area_m2)
    out.append((park_set_key("park", park_min_area_m2), park, park_radius_m))
    return out


def park_requests(
    inputs: Inputs,
    *,
    tiers: Sequence[tuple[float, float]] = DEFAULT_TIERS,
    green_radius_m: float = 300.0,
    green_min_area_m2: float = 400.0,
    park_radius_m: float = 500.0,
    park_min_area_m2: float = 5000.0,
    size_from: str = "whole",
    boundary_step_m: float = 2.0,
    grid_spacing_m: float = 100.0,
) -> dict[str, Request]:
    """The park source sets :func:`park_coverage` reads (one per tier, green, park)."""
    parks = inputs.city.parks
    geoms = np.asarray(parks.geometry.values, dtype=object)
    sets = _park_sets(
        parks,
        tiers=tiers,
        green_radius_m=green_radius_m,
        green_min_area_m2=green_min_area_m2,
        park_radius_m=park_radius_m,
        park_min_area_m2=park_min_area_m2,
        size_from=size_from,
    )
    return {
        key: Request(geoms[mask], float(radius), boundary_step_m, grid_spacing_m)
        for key, mask, radius in sets
    }


def park_coverage(
    access: Access,
    inputs: Inputs,
    *,
    tiers: Sequence[tuple[float, float]] = DEFAULT_TIERS,
    green_radius_m: float = 300.0,
    green_min_area_m2: float = 400.0,
    park_radius_m: float = 500.0,
    park_min_area_m2: float = 5000.0,
    size_from: str = "whole",
    boundary_step_m: float = 2.0,
    grid_spacing_m: float = 100.0,
) -> IndicatorResult:
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
    tiers, green_radius_m, green_min_area_m2, park_radius_m, park_min_area_m2
        Size classes (m²) and radii (m), see above and ``indicators.yaml``.
    size_from
        ``whole`` or ``inside``: which area decides a park's size class.
    boundary_step_m
        Spacing (m) of the outline points that find the edges nearest each park.
    grid_spacing_m
        Grid spacing (m) of the network coverage areas drawn on maps.

    Returns
    -------
    IndicatorResult
        Buffer and network rows of ``park_service``, ``green_<r>``, ``park_<r>``; per-home flags of
        both methods; coverage areas of both methods.
    """
    homes = inputs.homes
    parks = inputs.city.parks
    land = residential_land(inputs.city.residential)
    geoms = np.asarray(parks.geometry.values, dtype=object)
    rows: list[dict[str, Any]] = []
    per_home: dict[str, Any] = {}
    geo: dict[str, BaseGeometry] = {}
    layers = {}
    sets = _park_sets(
        parks,
        tiers=tiers,
        green_radius_m=green_radius_m,
        green_min_area_m2=green_min_area_m2,
        park_radius_m=park_radius_m,
        park_min_area_m2=park_min_area_m2,
        size_from=size_from,
    )
    grid = access.grids.get(float(grid_spacing_m))

    def network_cover(keys_radii: Sequence[tuple[str, float]]) -> BaseGeometry | None:
        if grid is None:
            return None
        g = np.zeros(int(grid.inside.sum()), dtype=bool)
        for key, radius in keys_radii:
            g |= access.grid_m.get(key, np.full(g.shape, np.inf)) <= radius
        if not g.any():
            return None
        return cells_polygon(grid.ends, grid.shape, grid.inside, g, grid_spacing_m, inputs.boundary)

    def add_geometries(
        measure: str,
        cover: BaseGeometry,
        net_cover: BaseGeometry | None,
        r: float | None,
        family: str,
        zh: str,
        en: str,
    ) -> None:
        for method, g in ((Method.BUFFER, cover), (Method.NETWORK, net_cover)):
            if g is None or g.is_empty:
                continue
            key = coverage_key(measure, method)
            geo[key] = g
            layers[key] = coverage_layer(
                measure, method, family=family, radius_m=r, label_zh=zh, label_en=en
            )

    # service-radius coverage, tiered
    tier_sets = sets[: len(tiers)]
    covered = np.zeros(len(homes), dtype=bool)
    radii = np.zeros(len(parks))
    for key, mask, radius in tier_sets:
        radii[mask] = radius
        covered |= access.home(key) <= radius
    served = radii > 0
    per_home[coverage_key(PARK_SERVICE, Method.NETWORK)] = covered
    lzh, len_ = "公园绿地服务半径覆盖率", "Park service-radius coverage"
    tier_note = "; ".join(f"≥{a:g} m² → {r:g} m" for a, r in tiers)
    if not served.any():
        rows += no_data_rows(
            "park_service_coverage", PARK_SERVICE, lzh, len_, "no data: no park in a size tier"
        )
    else:
        share, cover = buffer_share(geoms[served], radii[served], land)
        per_home[coverage_key(PARK_SERVICE, Method.BUFFER)] = inside_flags(cover, homes)
        add_geometries(
            PARK_SERVICE,
            cover,
            network_cover([(k, r) for k, _, r in tier_sets]),
            None,
            "park",
            lzh,
            len_,
        )
        rows.append(
            measure_row(
                "park_service_coverage",
                PARK_SERVICE,
                Method.BUFFER,
                Basis.RESIDENTIAL_AREA,
                share,
                "share",
                lzh,
                len_,
                tier_note,
            )
        )
        rows += buffer_home_rows(
            "park_service_coverage",
            PARK_SERVICE,
            per_home[coverage_key(PARK_SERVICE, Method.BUFFER)],
            homes,
            lzh,
            len_,
            tier_note,
        )
        rows += network_rows(
            "park_service_coverage", PARK_SERVICE, covered, homes, lzh, len_, tier_note
        )

    (gkey, gmask, _), (pkey, pmask, _) = sets[-2], sets[-1]
    for ind, measure, key, mask, radius, family, zh, en in (
        (
            "green_300m",
            green_measure(green_radius_m),
            gkey,
            gmask,
            green_radius_m,
            "green",
            f"{green_radius_m:g}米见绿",  # labels follow the parameters (a sheet may say 400 m)
            f"Green space within {green_radius_m:g} m",
        ),
        (
            "park_500m",
            park_measure(park_radius_m),
            pkey,
            pmask,
            park_radius_m,
            "park",
            f"{park_radius_m:g}米见园",
            f"Park within {park_radius_m:g} m",
        ),
    ):
        if not mask.any():
            rows += no_data_rows(ind, measure, zh, en, "no data: no such green space")
            continue
        cov = access.home(key) <= radius
        per_home[coverage_key(measure, Method.NETWORK)] = cov
        share, cover = buffer_share(geoms[mask], radius, land)
        per_home[coverage_key(measure, Method.BUFFER)] = inside_flags(cover, homes)
        add_geometries(measure, cover, network_cover([(key, radius)]), radius, family, zh, en)
        rows.append(
            measure_row(ind, measure, Method.BUFFER, Basis.RESIDENTIAL_AREA, share, "share", zh, en)
        )
        rows += buffer_home_rows(
            ind, measure, per_home[coverage_key(measure, Method.BUFFER)], homes, zh, en
        )
        rows += network_rows(ind, measure, cov, homes, zh, en)
    return IndicatorResult(
        "park_coverage",
        pd.DataFrame(per_home, index=homes.index),
        summary_frame(rows),
        geo,
        layers,
    )


def green_land_ratio(parks: gpd.GeoDataFrame, boundary: BaseGeometry) -> IndicatorResult:
    """绿地率 (OSM approximation).

    Area of public green (parks and other green, overlaps counted once) inside the boundary ÷
    boundary area. CJJ/T 85-2017 counts G1+G2+G3 share+XG; OSM rarely maps 附属绿地 (green inside
    compounds), so this is a lower bound.
    """
    # overlaps counted once: the union of the green (memoised, only meeting polygons overlaid)
    g = union_of_buffers(np.asarray(parks.geometry.values, dtype=object), 0.0)
    v = overlap_area(g, boundary) / boundary.area if boundary.area else None
    if not len(parks):
        v = None  # no green in the data is "no data", not a ratio of 0
    row = measure_row(
        "green_land_ratio",
        "green_land_ratio",
        "area",
        "boundary_area",
        v,
        "share",
        "绿地率（OSM近似）",
        "Green land ratio (OSM approximation)",
        "lower bound: OSM rarely maps green inside compounds"
        if v is not None
        else "no data: no public green in the data",
    )
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
    row = measure_row(
        "park_area_per_resident",
        "park_area_per_resident",
        "area",
        "residents",
        v,
        "m2/person",
        "人均公园绿地面积",
        "Park area per resident",
        note,
    )
    return IndicatorResult("park_area_per_resident", pd.DataFrame(), summary_frame([row]))
