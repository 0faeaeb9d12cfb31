"""公交站点覆盖率: bus-stop 300 / 500 m coverage, buffer and network."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from geoplan.indicators.access import Access, Grid, Request
from geoplan.indicators.cover import Area, Buffers, CellsArea
from geoplan.indicators.coverage import (
    CellFlags,
    IndicatorResult,
    Measure,
    buffer_home_rows,
    coverage_layer,
    measure_row,
    network_rows,
    no_data_rows,
    residential_land,
    summary_frame,
)
from geoplan.indicators.gaps import Reach
from geoplan.indicators.grid import cells_near, centres_of, union_cells
from geoplan.indicators.inputs import Inputs
from geoplan.names import Basis, Method, bus_measure, coverage_key

#: the access request key of the bus-stop layer
BUS_STOPS = "bus_stop"


@dataclass(frozen=True, slots=True)
class BusParams:
    """Parameters of :func:`bus_stop_coverage` (defaults and sources: ``indicators.yaml``).

    Attributes
    ----------
    radii_m
        Service radii (m).
    grid_spacing_m
        Spacing (m) of the grid for network coverage of the boundary area.
    zero_if_empty
        Not a sheet parameter: a plan removed every stop, so coverage is 0 %, not "no data".
    """

    radii_m: tuple[float, ...]
    grid_spacing_m: float
    zero_if_empty: bool = False


def bus_requests(inputs: Inputs, params: BusParams) -> dict[str, Request]:
    """The one source set :func:`bus_stop_coverage` reads.

    Bus stops, to the largest radius, from homes and from a ``grid_spacing_m`` grid over the
    boundary.

    Parameters
    ----------
    inputs
        The city's layers and homes (metric CRS).
    params
        The indicator's parameters.

    Returns
    -------
    dict
        ``{"bus_stop": Request}``.
    """
    geoms = np.asarray(inputs.city.bus_stops.geometry.values, dtype=object)
    return {
        BUS_STOPS: Request(geoms, float(max(params.radii_m)), 25.0, float(params.grid_spacing_m)),
    }


def bus_stop_coverage(access: Access, inputs: Inputs, params: BusParams) -> IndicatorResult:
    """公交站点覆盖率 at each radius, over built-up (boundary) land, residential land and homes.

    GB 50220-95: area within 300 m of a stop ≥ 50 % of urban land, within 500 m ≥ 90 %;
    中发〔2016〕6号 and the seed plans: 500 m coverage = 100 %.

    - buffer / boundary_area: boundary area within ``r`` of a stop ÷ boundary area;
    - buffer / residential_area: the official residential-land version;
    - network / homes, residential_area, residents: walking distance from homes;
    - network / boundary_area: share of a ``grid_spacing_m`` grid of points over the boundary
      within walking distance ``r`` (each point walks straight to its nearest street first).

    Parameters
    ----------
    access
        The access stage's distances (:func:`bus_requests` must have been computed).
    inputs
        The city's layers and homes (metric CRS).
    params
        Radii (m), grid spacing (m), and whether an empty stop layer means 0 % (a plan removed
        every stop) rather than "no data".

    Returns
    -------
    IndicatorResult
        Rows per radius and basis for both methods; per-home flags
        ``bus_cov_<r>_buffer`` / ``bus_cov_<r>_network``; coverage areas of both methods.
    """
    homes, boundary = inputs.homes, inputs.boundary
    grid_spacing_m, zero_if_empty = params.grid_spacing_m, params.zero_if_empty
    land = residential_land(inputs.city.residential)
    geoms = np.asarray(inputs.city.bus_stops.geometry.values, dtype=object)
    rows: list[dict[str, Any]] = []
    per_home: dict[str, Any] = {}
    geo: dict[str, Area] = {}
    layers = {}
    reach: dict[str, Reach] = {}
    per_cell: dict[str, CellFlags] = {}
    d_home = access.home(BUS_STOPS)
    d_grid = access.grid_m.get(BUS_STOPS)
    grid = access.grids.get(float(grid_spacing_m)) if d_grid is not None else None
    n_cells = grid.n_inside if grid is not None else 0
    empty_note = "every bus stop removed by the scenario" if zero_if_empty else ""
    for r in params.radii_m:
        measure = bus_measure(r)
        zh, en = f"公交站点{r:g}米覆盖率", f"Bus stop {r:g} m coverage"
        m = Measure("bus_stop_coverage", measure, zh, en, note=empty_note)
        if geoms.size == 0 and not zero_if_empty:
            rows += no_data_rows(m, "no data: no bus stop in the data")
            continue
        cover = inputs.buffers(geoms, r)
        share_land = cover.share(land)
        share_all = cover.share(boundary)
        bkey = coverage_key(measure, Method.BUFFER)
        if not cover.is_empty:
            geo[bkey] = cover
            layers[bkey] = coverage_layer(
                measure, Method.BUFFER, family="bus", radius_m=r, label_zh=zh, label_en=en
            )
        per_home[bkey] = cover.inside(homes)
        reach[measure] = Reach(geoms, np.full(geoms.shape[0], float(r)))
        rows.append(measure_row(m, Method.BUFFER, Basis.BOUNDARY_AREA, share_all))
        rows.append(measure_row(m, Method.BUFFER, Basis.RESIDENTIAL_AREA, share_land))
        rows += buffer_home_rows(m, per_home[bkey], homes)
        cov = d_home <= r
        per_home[coverage_key(measure, Method.NETWORK)] = cov
        rows += network_rows(m, cov, homes)
        gcov = d_grid <= r if d_grid is not None else np.zeros(0, dtype=bool)
        if grid is not None and n_cells:
            per_cell[measure] = _cell_flags(grid, cover, gcov, geoms, r)
        rows.append(
            measure_row(
                m,
                Method.NETWORK,
                Basis.BOUNDARY_AREA,
                float(gcov.sum()) / n_cells if n_cells else None,
                note=empty_note or f"{grid_spacing_m:g} m grid",
            )
        )
        if gcov.any() and grid is not None:  # covered grid cells as one polygon, for maps
            nkey = coverage_key(measure, Method.NETWORK)
            geo[nkey] = CellsArea.of(
                grid.ends, grid.shape, grid.cells, gcov, grid_spacing_m, boundary
            )
            layers[nkey] = coverage_layer(
                measure, Method.NETWORK, family="bus", radius_m=r, label_zh=zh, label_en=en
            )
    return IndicatorResult(
        "bus_stop_coverage",
        pd.DataFrame(per_home, index=homes.index),
        summary_frame(rows),
        geo,
        layers,
        reach,
        per_cell,
    )


def _cell_flags(
    grid: Grid, cover: Buffers, walk: NDArray[np.bool_], geoms: NDArray[np.object_], radius_m: float
) -> CellFlags:
    """Buffer and walking flags of the grid cells either may cover.

    Those are the cells the access grid lists (``walk`` follows them) and the cells within
    ``radius_m`` of a stop's box (a superset of those whose centre lies in the buffer cover);
    every other inside cell is covered by neither, so it is not listed.
    """
    near = cells_near(grid.xs, grid.ys, grid.inside, shapely.bounds(geoms), radius_m + 1.0)
    cells = union_cells(grid.inside.shape[0], grid.cells, near)
    xy = centres_of(grid.xs, grid.ys, cells)
    network = np.zeros(cells.shape[0], dtype=bool)
    network[np.searchsorted(cells, grid.cells)] = walk
    return CellFlags(grid.spacing_m, cells, cover.contains_xy(xy[:, 0], xy[:, 1]), network)
