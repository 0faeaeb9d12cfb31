"""生活圈覆盖率: life circles (GB 50180-2018) and themed circles, both methods."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geoplan.indicators.access import Access, Grid, Request
from geoplan.indicators.cover import Area, Buffers, CellsArea
from geoplan.indicators.coverage import (
    IndicatorResult,
    Measure,
    bound_rows,
    buffer_home_rows,
    category_geometries,
    column_name,
    coverage_layer,
    distances_of,
    measure_row,
    network_rows,
    no_data_rows,
    prefetch_unions,
    residential_land,
    summary_frame,
)
from geoplan.indicators.inputs import Inputs
from geoplan.names import (
    COMPLETE_LC,
    COMPLETE_LC_LABELS,
    LEVELS,
    Basis,
    CoverageLayer,
    Method,
    circle_flag_stem,
    circle_measure,
    dist_column,
)
from geoplan.rules import taxonomy as tx
from geoplan.rules.life_circles import LifeCircles, ThemedCircle, load_life_circles


def _requirement_met(
    table: pd.DataFrame,
    cat: str,
    alternatives: Mapping[str, Sequence[str]],
    radius_m: float,
) -> NDArray[np.bool_]:
    d = distances_of(table, cat)
    for alt in alternatives.get(cat, ()):
        d = np.minimum(d, distances_of(table, alt))
    return np.asarray(d <= radius_m)


def _buffer_parts(
    geoms: Mapping[str, NDArray[np.object_]], cats: Sequence[str]
) -> NDArray[np.object_]:
    parts = [g for c in cats for g in geoms.get(c, np.zeros(0, dtype=object))]
    return np.asarray(parts, dtype=object)


@dataclass(frozen=True)
class GridPlace:
    """The grid of a grid table and the boundary it was laid over (``attrs["grid"]``).

    Shared, never copied: pandas deep-copies ``attrs`` on most operations, and a grid over a
    large study area holds hundreds of MB (the xy of every cell of its bounding box).
    """

    grid: Grid
    boundary: BaseGeometry

    def __deepcopy__(self, memo: dict[int, Any]) -> GridPlace:
        """Itself: the grid and boundary are read-only.

        Parameters
        ----------
        memo
            The deepcopy memo.

        Returns
        -------
        GridPlace
            This one (shared, not copied).
        """
        return self


@dataclass
class _Combined:
    """Homes / area that reach every required category of a level or circle (both methods)."""

    net: NDArray[np.bool_]
    buf: Buffers
    grid: NDArray[np.bool_] | None
    missing: list[str]
    n_required: int
    required: tuple[str, ...] = ()


def _no_data_note(missing: Sequence[str], n_required: int) -> str:
    labels = tx.categories()
    names = ", ".join(dict.fromkeys(labels[c].label_zh if c in labels else c for c in missing))
    k = n_required - len(missing)
    return (
        f"no data ({k} of {n_required} required categories in the data; missing: {names}): the "
        f"share over the {k} present is an upper bound; add the missing ones with --facilities "
        "(an AMap / Baidu export)"
    )


def _category_rows(
    circle: Measure,
    cat: str,
    met: NDArray[np.bool_] | None,
    cover: Buffers | None,
    homes: gpd.GeoDataFrame,
    land: BaseGeometry,
    optional: bool,
) -> list[dict[str, Any]]:
    lab = tx.categories().get(cat)
    czh = (lab.label_zh if lab else cat) + ("（宜配建）" if optional else "")
    cen = (lab.label_en if lab else cat) + (" (optional)" if optional else "")
    m = Measure(
        circle.indicator,
        f"{circle.measure}:{cat}",
        f"{circle.label_zh}·{czh}",
        f"{circle.label_en} · {cen}",
    )
    if met is None or cover is None:
        return no_data_rows(m, "no data: no facility of this category in the data")
    rows = network_rows(m, met, homes)
    share = cover.share(land)
    rows.append(measure_row(m, Method.BUFFER, Basis.RESIDENTIAL_AREA, share))
    return rows


@dataclass(frozen=True, slots=True)
class _Circle:
    """One level or themed circle: its measure, categories and radius."""

    m: Measure
    cats: tuple[str, ...]
    alternatives: Mapping[str, Sequence[str]]
    radius_m: float
    optional: tuple[str, ...] = ()


def _circle_rows(
    c: _Circle,
    table: pd.DataFrame,
    homes: gpd.GeoDataFrame,
    land: BaseGeometry,
    geoms: Mapping[str, NDArray[np.object_]],
    grid_table: pd.DataFrame | None = None,
    *,
    inputs: Inputs,
) -> tuple[list[dict[str, Any]], dict[str, NDArray[np.bool_]], dict[str, Area], _Combined]:
    """Rows, per-home flags and coverage areas of one level or themed circle ``key``.

    Every category (required and optional) gets its own rows; the level's rows cover the
    required ones. A required category with no facility in the data makes the level "no data
    (k of n)", never a share over the categories that happen to exist. ``grid_table``
    (distances from the access grid) gives the network coverage area.
    """
    rows: list[dict[str, Any]] = []
    per_home: dict[str, NDArray[np.bool_]] = {}
    geo: dict[str, Area] = {}
    key, cats, alternatives, radius_m = c.m.measure, c.cats, c.alternatives, c.radius_m

    def has_data(cat: str) -> bool:
        return any(len(geoms.get(x, ())) for x in (cat, *alternatives.get(cat, ())))

    missing = [x for x in cats if not has_data(x)]
    all_net = np.ones(len(homes), dtype=bool)
    all_grid = None if grid_table is None else np.ones(len(grid_table), dtype=bool)
    all_buf: Buffers | None = None
    for cat in (*cats, *c.optional):
        is_opt = cat not in cats
        if not has_data(cat):
            rows += _category_rows(c.m, cat, None, None, homes, land, is_opt)
            continue
        met = _requirement_met(table, cat, alternatives, radius_m)
        cover = inputs.buffers(_buffer_parts(geoms, [cat, *alternatives.get(cat, ())]), radius_m)
        per_home[column_name(circle_flag_stem(key, cat), method=Method.NETWORK)] = met
        rows += _category_rows(c.m, cat, met, cover, homes, land, is_opt)
        if is_opt:
            continue
        all_net &= met
        if all_grid is not None and grid_table is not None:
            all_grid &= _requirement_met(grid_table, cat, alternatives, radius_m)
        all_buf = cover if all_buf is None else all_buf & cover
    combined = _Combined(
        all_net,
        all_buf if all_buf is not None else inputs.buffers(np.zeros(0, dtype=object), radius_m),
        all_grid,
        missing,
        len(cats),
        tuple(cats),
    )
    if missing:
        note = _no_data_note(missing, len(cats))
        if len(missing) < len(cats):  # the categories present bound the share from above
            rows += bound_rows(_combined_rows(c.m, combined, homes, land, {}), note)
        else:
            rows += no_data_rows(c.m, note)
        return rows, per_home, geo, combined
    rows += _combined_rows(c.m, combined, homes, land, per_home)
    stem = circle_flag_stem(key)
    if not combined.buf.is_empty:
        geo[column_name(stem, method=Method.BUFFER)] = combined.buf
    if all_grid is not None and all_grid.any() and grid_table is not None:
        place: GridPlace = grid_table.attrs["grid"]
        g = place.grid
        geo[column_name(stem, method=Method.NETWORK)] = CellsArea.of(
            g.ends, g.shape, g.cells, all_grid, g.spacing_m, place.boundary
        )
    return rows, per_home, geo, combined


def _combined_rows(
    m: Measure,
    combined: _Combined,
    homes: gpd.GeoDataFrame,
    land: BaseGeometry,
    per_home: dict[str, NDArray[np.bool_]],
) -> list[dict[str, Any]]:
    """Both methods' rows of homes reaching every required category; sets the per-home flags."""
    stem = circle_flag_stem(m.measure)
    per_home[column_name(stem, method=Method.NETWORK)] = combined.net
    rows = network_rows(m, combined.net, homes)
    share = combined.buf.share(land)
    rows.append(measure_row(m, Method.BUFFER, Basis.RESIDENTIAL_AREA, share))
    flags = combined.buf.inside(homes)
    per_home[column_name(stem, method=Method.BUFFER)] = flags
    rows += buffer_home_rows(m, flags, homes)
    return rows


def _complete_rows(
    levels: Mapping[str, _Combined],
    homes: gpd.GeoDataFrame,
    land: BaseGeometry,
    per_home: dict[str, NDArray[np.bool_]],
    geo: dict[str, Area],
    inputs: Inputs,
) -> list[dict[str, Any]]:
    """完整生活圈: every required category of the three levels, each within its own distance.

    GB 50180-2018 非包含关系: the 15-minute level's facilities are required in addition to the
    10- and 5-minute ones, so a home is in the complete life circle when it reaches all of them.
    """
    m = Measure("life_circle", COMPLETE_LC, *COMPLETE_LC_LABELS)
    missing = list(dict.fromkeys(c for lev in levels.values() for c in lev.missing))
    n_req = len({c for lev in levels.values() for c in lev.required})
    if len(levels) < len(LEVELS):
        return no_data_rows(m, "no data: every level must be measured")
    net = np.logical_and.reduce([lev.net for lev in levels.values()])
    # a level none of whose categories is in the data constrains nothing (its area is empty)
    present = [lev for lev in levels.values() if len(lev.missing) < lev.n_required]
    buf = present[0].buf if present else inputs.buffers(np.zeros(0, dtype=object), 0.0)
    for lev in present[1:]:
        buf = buf & lev.buf
    combined = _Combined(net, buf, None, [], n_req)
    if missing:
        note = _no_data_note(missing, n_req)
        if len(missing) >= n_req:
            return no_data_rows(m, note)
        return bound_rows(_combined_rows(m, combined, homes, land, {}), note)
    if not buf.is_empty:
        geo[column_name(circle_flag_stem(COMPLETE_LC), method=Method.BUFFER)] = buf
    return _combined_rows(m, combined, homes, land, per_home)


def category_key(category: str) -> str:
    """Access request key of a facility category (shared by life circles and themed circles).

    Parameters
    ----------
    category
        A facility category.

    Returns
    -------
    str
    """
    return f"cat:{category}"


def _geometries(inputs: Inputs) -> dict[str, NDArray[np.object_]]:
    """Facility geometries per category, once per :class:`Inputs` (every circle reads them)."""
    memo: dict[str, dict[str, NDArray[np.object_]]] = inputs.__dict__.setdefault("_geoms", {})
    if "v" not in memo:
        c = inputs.city
        memo["v"] = category_geometries(c.facilities, bus_stops=c.bus_stops, parks=c.parks)
    return memo["v"]


def _circle_requests(
    geoms: Mapping[str, NDArray[np.object_]],
    specs: Sequence[tuple[Sequence[str], Mapping[str, Sequence[str]], float]],
    *,
    boundary_step_m: float,
    grid_spacing_m: float | None,
    per_home_limit_m: float | None = None,
) -> dict[str, Request]:
    """One request per category (and alternative) that has geometries, at the largest radius.

    ``per_home_limit_m``: also request every other category up to this distance (m).
    """
    limits: dict[str, float] = {}
    for cats, alternatives, radius in specs:
        for c in cats:
            for x in (c, *alternatives.get(c, ())):
                limits[x] = max(limits.get(x, 0.0), float(radius))
    if per_home_limit_m is not None:
        # every category (parks and green too) up to the largest radius, so that the per-home
        # output holds a distance to each category wherever one is within it
        for cat in geoms:
            limits[cat] = max(limits.get(cat, 0.0), per_home_limit_m)
    return {
        category_key(cat): Request(g, limits[cat], boundary_step_m, grid_spacing_m)
        for cat, g in geoms.items()
        if cat in limits
    }


def _tables(
    access: Access, inputs: Inputs, geoms: Mapping[str, NDArray[np.object_]]
) -> tuple[pd.DataFrame, pd.DataFrame | None, float | None]:
    cats = [c for c in geoms if category_key(c) in access.home_m]
    table = pd.DataFrame(
        {dist_column(c): access.home(category_key(c)) for c in cats}, index=inputs.homes.index
    )
    gkeys = [c for c in cats if category_key(c) in access.grid_m]
    spacings = {access.grid_spacing_of[category_key(c)] for c in gkeys}
    if not gkeys or len(spacings) != 1:
        return table, None, None
    spacing = spacings.pop()
    gcols = {dist_column(c): access.grid_m[category_key(c)] for c in gkeys}
    # the columns are the access arrays themselves (no copy: 8 bytes per cell per category)
    grid_table = pd.DataFrame(gcols, copy=False)
    grid_table.attrs["grid"] = GridPlace(access.grids[spacing], inputs.boundary)
    return table, grid_table, spacing


@dataclass(frozen=True, slots=True)
class LifeCircleParams:
    """Parameters of :func:`life_circle_coverage` (defaults and sources: ``indicators.yaml``).

    Attributes
    ----------
    radius_5min_m, radius_10min_m, radius_15min_m
        A sheet's radius (m) of each level; ``None``: the level's own (``life_circles.yaml``).
    boundary_step_m
        Sampling step (m) along polygon facilities' outlines.
    grid_spacing_m
        Grid spacing (m) of the network coverage areas drawn on maps.
    circles
        Life-circle definitions (``None``: the bundled ``life_circles.yaml``).
    levels
        Levels to report.
    """

    radius_5min_m: float | None
    radius_10min_m: float | None
    radius_15min_m: float | None
    boundary_step_m: float
    grid_spacing_m: float
    circles: LifeCircles | None = None
    levels: tuple[str, ...] = tuple(LEVELS)

    def definitions(self) -> LifeCircles:
        """The life circles this run uses.

        Returns
        -------
        LifeCircles
        """
        return self.circles or load_life_circles()

    def radius_of(self, level: str) -> float:
        """Radius (m) of a level: the sheet's, else the level's own.

        Parameters
        ----------
        level
            ``5min``, ``10min`` or ``15min``.

        Returns
        -------
        float
        """
        r = getattr(self, f"radius_{level}_m", None)
        return float(self.definitions().levels[level].radius_m if r is None else r)


@dataclass(frozen=True, slots=True)
class CircleParams:
    """Parameters of :func:`themed_circle_coverage`.

    Attributes
    ----------
    boundary_step_m, grid_spacing_m
        As :class:`LifeCircleParams` (defaults: ``indicators.yaml``).
    name
        Themed-circle key of ``life_circles.yaml`` (``fitness`` …), given by the target.
    radius_m
        Radius (m); ``None``: the circle's own.
    circles
        Life-circle definitions (``None``: the bundled file).
    """

    boundary_step_m: float
    grid_spacing_m: float
    name: str
    radius_m: float | None = None
    circles: LifeCircles | None = None

    def circle(self) -> tuple[ThemedCircle, float]:
        """The circle's definition and its radius (m) in this run.

        Returns
        -------
        tuple
            ``(ThemedCircle, radius m)``.
        """
        c = (self.circles or load_life_circles()).circles[self.name]
        return c, float(c.radius_m if self.radius_m is None else self.radius_m)


def life_circle_requests(inputs: Inputs, params: LifeCircleParams) -> dict[str, Request]:
    """The source sets :func:`life_circle_coverage` reads: one per required category.

    Parameters
    ----------
    inputs
        The city's layers and homes (metric CRS).
    params
        The indicator's parameters.

    Returns
    -------
    dict
        ``{category key: Request}``.
    """
    lc = params.definitions()
    specs = []
    for key in params.levels:
        lev = lc.levels[key]
        specs.append(((*lev.required, *lev.optional), lev.alternatives, params.radius_of(key)))
    return _circle_requests(
        _geometries(inputs),
        specs,
        boundary_step_m=params.boundary_step_m,
        grid_spacing_m=params.grid_spacing_m,
        per_home_limit_m=per_home_limit_m(params),
    )


def per_home_limit_m(params: LifeCircleParams) -> float:
    """Search limit (m) of the per-home distances: the largest radius of any level or circle.

    ``homes.gpkg`` holds the distance to every category up to it; farther is written empty.

    Parameters
    ----------
    params
        The life circles' parameters.

    Returns
    -------
    float
    """
    lc = params.definitions()
    radii = [params.radius_of(k) for k in lc.levels]
    radii += [c.radius_m for c in lc.circles.values()]
    return max(radii)


def _layers_of(
    geo: Mapping[str, Area], measure: str, zh: str, en: str, r: float
) -> dict[str, CoverageLayer]:
    out = {}
    for method in (Method.BUFFER, Method.NETWORK):
        key = column_name(circle_flag_stem(measure), method=method)
        if key in geo:
            out[key] = coverage_layer(
                measure,
                method,
                family="life_circle",
                radius_m=r,
                label_zh=zh,
                label_en=en,
                stem=circle_flag_stem(measure),
            )
    return out


def life_circle_coverage(
    access: Access, inputs: Inputs, params: LifeCircleParams
) -> IndicatorResult:
    """生活圈覆盖率: per level and category, and for every required category of the level.

    GB 50180-2018 (levels 5 / 10 / 15 min ≈ 300 / 500 / 1000 m; categories from
    ``life_circles.yaml``). A category with no facility in the data is reported as "no data",
    not 0 %; the all-category share then covers the categories that have data and says so.

    Parameters
    ----------
    access
        The access stage's distances (:func:`life_circle_requests`).
    inputs
        The city's layers (facilities, bus stops, parks, residential land) and homes, metric CRS.
    params
        Definitions, levels, each level's radius (m; a sheet's ``radius_15min_m`` …), outline step
        and grid spacing (m): :class:`LifeCircleParams`.

    Returns
    -------
    IndicatorResult
        Buffer and network rows per level and category; per-home flags
        ``lc_<level>_<category>_network`` and ``lc_<level>_complete_buffer|network``; the
        complete-level coverage areas of both methods.
    """
    lc = params.definitions()
    levels = params.levels
    geoms = _geometries(inputs)
    table, grid_table, _ = _tables(access, inputs, geoms)
    land = residential_land(inputs.city.residential)
    rows: list[dict[str, Any]] = []
    per_home: dict[str, Any] = {}
    geo: dict[str, Area] = {}
    layers: dict[str, CoverageLayer] = {}
    combined: dict[str, _Combined] = {}
    radii = [params.radius_of(k) for k in levels] or [0.0]
    jobs = []
    for key in levels:
        lev = lc.levels[key]
        r = params.radius_of(key)
        for cat in (*lev.required, *lev.optional):
            parts = _buffer_parts(geoms, [cat, *lev.alternatives.get(cat, ())])
            jobs.append((parts, r))
    if inputs.areas == "exact":
        prefetch_unions(jobs)
    for key in levels:
        lev = lc.levels[key]
        r = params.radius_of(key)
        circle = _Circle(
            Measure("life_circle", key, lev.label_zh, lev.label_en),
            tuple(lev.required),
            lev.alternatives,
            r,
            tuple(lev.optional),
        )
        rr, ph, gg, comb = _circle_rows(
            circle, table, inputs.homes, land, geoms, grid_table, inputs=inputs
        )
        rows += rr
        per_home.update(ph)
        geo.update(gg)
        layers.update(_layers_of(gg, key, lev.label_zh, lev.label_en, r))
        combined[key] = comb
    rows += _complete_rows(combined, inputs.homes, land, per_home, geo, inputs)
    layers.update(_layers_of(geo, COMPLETE_LC, *COMPLETE_LC_LABELS, max(radii)))
    return IndicatorResult(
        "life_circle",
        pd.DataFrame(per_home, index=inputs.homes.index),
        summary_frame(rows),
        geo,
        layers,
    )


def themed_circle_requests(inputs: Inputs, params: CircleParams) -> dict[str, Request]:
    """The source sets :func:`themed_circle_coverage` reads.

    Parameters
    ----------
    inputs
        The city's layers and homes (metric CRS).
    params
        The circle, its radius (m), outline step and grid spacing (m).

    Returns
    -------
    dict
        ``{category key: Request}``.
    """
    c, r = params.circle()
    return _circle_requests(
        _geometries(inputs),
        [(c.categories, c.alternatives, r)],
        boundary_step_m=params.boundary_step_m,
        grid_spacing_m=params.grid_spacing_m,
    )


def themed_circle_coverage(access: Access, inputs: Inputs, params: CircleParams) -> IndicatorResult:
    """Themed circles of the plans (15分钟健身圈, 阅读圈, 医疗圈, 养老服务圈 …).

    Share of homes reaching every category of the circle within ``radius_m`` (default from
    ``life_circles.yaml``), both methods.

    Parameters
    ----------
    access
        The access stage's distances (:func:`themed_circle_requests`).
    inputs
        The city's layers and homes (metric CRS).
    params
        The circle (``name``), its radius (m; default the circle's own), definitions, outline
        step and grid spacing (m): :class:`CircleParams`.

    Returns
    -------
    IndicatorResult
    """
    c, r = params.circle()
    key = circle_measure(params.name, r)
    geoms = _geometries(inputs)
    table, grid_table, _ = _tables(access, inputs, geoms)
    circle = _Circle(
        Measure("circle", key, c.label_zh, c.label_en), tuple(c.categories), c.alternatives, r
    )
    rows, ph, geo, _ = _circle_rows(
        circle,
        table,
        inputs.homes,
        residential_land(inputs.city.residential),
        geoms,
        grid_table,
        inputs=inputs,
    )
    return IndicatorResult(
        "circle",
        pd.DataFrame(ph, index=inputs.homes.index),
        summary_frame(rows),
        geo,
        _layers_of(geo, key, c.label_zh, c.label_en, r),
    )
