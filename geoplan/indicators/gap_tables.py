"""Gap-cause tables: the buffer − walking gap of each measure split by cause, per basis.

:func:`explain_gaps` runs :func:`geoplan.indicators.gaps.classify_gaps` on every measure's gap
homes and sums them into :func:`gap_table` rows (homes, residential land, residents) that add up
to the scorecard's buffer − walking figure; :func:`gap_homes` is the map layer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from geoplan._memo import IdentityMemo
from geoplan.indicators.access import Access
from geoplan.indicators.coverage import IndicatorResult
from geoplan.indicators.gaps import (
    FAR,
    BarrierIndex,
    Reach,
    barrier_index,
    cause_labels,
    cause_order,
    classify_gaps,
    home_points,
)
from geoplan.indicators.grid import centres_of
from geoplan.network.access import EdgeAttachment
from geoplan.network.graph import WalkNetwork
from geoplan.rules.barriers import AREA_METHOD, DATA_GAP, OTHER, WALK_ONLY

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

#: barrier indexes of the networks and barrier layers seen last (scenario re-runs)
_INDEX = IdentityMemo(maxsize=4)
#: causes of the gaps seen last, by content of the points, their attachments and the reach, on
#: one network and barrier index (a scenario re-run redoes only the measures that changed)
_CAUSES = IdentityMemo(maxsize=256)

#: the columns of a gap-cause table
GAP_COLUMNS = [
    "measure",
    "basis",
    "cause",
    "label_zh",
    "label_en",
    "gap_pp",
    "share_of_gap",
    "count",
]


def gap_table(
    measure: str,
    cause: NDArray[np.object_],
    buffer: NDArray[np.bool_],
    network: NDArray[np.bool_],
    weights: Mapping[str, F64],
    *,
    area_share: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Shares of the buffer − walking gap by cause, per basis.

    Parameters
    ----------
    measure
        Measure id (``bus_cov_500``).
    cause
        Per home: the cause key of its gap (:func:`classify_gaps`), ignored where it has none.
    buffer, network
        Per home: covered by the buffer; covered by walking.
    weights
        Basis → weight per home (``homes``: 1, ``residential_area``: land m², ``residents``).
    area_share
        Basis → the buffer share (0–1) the scorecard reports on that basis when it is measured on
        the land itself (residential land, built-up area); its difference to the share of the
        weights inside the buffer is the basis' ``area_method`` row.

    Returns
    -------
    DataFrame
        :data:`GAP_COLUMNS`: ``gap_pp`` in percentage points of the basis (the rows of a basis add
        up to its buffer − walking figure), ``share_of_gap`` in % of that difference, ``count``
        the number of homes (grid cells on an area basis) of the cause.
    """
    labels = cause_labels()
    order = cause_order()
    per_home = np.full(buffer.shape[0], "", dtype=object)
    gap = buffer & ~network
    per_home[gap] = cause[gap]
    per_home[network & ~buffer] = WALK_ONLY
    rows = []
    for basis, w_in in weights.items():
        w = np.nan_to_num(np.asarray(w_in, dtype=float))
        total = float(w.sum())
        if not total > 0:
            continue
        pp: dict[str, float] = {}
        count: dict[str, int] = {}
        for c in order:
            sel = per_home == c
            if sel.any():
                pp[c] = 100.0 * float(w[sel].sum()) / total * (-1.0 if c == WALK_ONLY else 1.0)
                count[c] = int(sel.sum())
        land = (area_share or {}).get(basis)
        if land is not None:
            diff = 100.0 * land - 100.0 * float(w[buffer].sum()) / total
            if abs(diff) > 1e-9:
                pp[AREA_METHOD] = diff
                count[AREA_METHOD] = 0
        gap_total = sum(pp.values())
        for c in order:
            if c not in pp:
                continue
            zh, en = labels[c]
            share = 100.0 * pp[c] / gap_total if gap_total else float("nan")
            rows.append([measure, basis, c, zh, en, pp[c], share, count[c]])
    return pd.DataFrame(rows, columns=GAP_COLUMNS)


def gap_cause_column(measure: str) -> str:
    """Name of the per-home cause column of a measure (``bus_cov_500_gap_cause``).

    Parameters
    ----------
    measure
        Measure id.

    Returns
    -------
    str
    """
    return f"{measure}_gap_cause"


def explain_gaps(
    net: WalkNetwork,
    barriers: gpd.GeoDataFrame | None,
    gates: gpd.GeoDataFrame | None,
    homes: gpd.GeoDataFrame,
    homes_att: EdgeAttachment,
    reach: Mapping[str, Reach],
    *,
    land_buffer_share: Mapping[str, float] | None = None,
    cells: Mapping[str, Cells] | None = None,
) -> tuple[pd.DataFrame, dict[str, NDArray[np.object_]]]:
    """The gap-cause table of every measure with per-home flags, and each home's cause.

    Parameters
    ----------
    net
        Walk network (metric CRS).
    barriers, gates
        The city's barrier and gate layers (``None``: none known; every gap is then a data gap,
        far from a street or ``other``).
    homes
        Homes with ``<measure>_buffer`` / ``<measure>_network`` flags, ``area_m2`` and
        ``residents`` (metric CRS).
    homes_att
        Each home's edge attachment (``owner`` = home position).
    reach
        Measure → its facilities and radii (:attr:`geoplan.indicators.IndicatorResult.reach`).
    land_buffer_share
        Measure → buffer share (0–1) of residential land as the scorecard reports it.
    cells
        Measure → its grid cells over the built-up area (:class:`Cells`): their gap is
        explained too, on the cells' basis.

    Returns
    -------
    table : DataFrame
        :data:`GAP_COLUMNS`, bases ``homes``, ``residential_area`` and (with residents)
        ``residents``.
    causes : dict
        Measure → cause key per home (``""`` outside the gap).
    """
    from geoplan.io.barriers import empty_barriers

    if barriers is None or gates is None:
        barriers, gates = empty_barriers(net.crs)
    # a scenario re-run on the same network and barriers reuses the index (by identity)
    index = _INDEX.get(
        "barrier_index", (net, barriers, gates), lambda: barrier_index(net, barriers, gates)
    )
    xy = home_points(homes)
    weights: dict[str, F64] = {"homes": np.ones(len(homes))}
    if "area_m2" in homes:
        weights["residential_area"] = homes["area_m2"].to_numpy(dtype=float)
    if "residents" in homes and homes["residents"].notna().any():
        weights["residents"] = homes["residents"].to_numpy(dtype=float)
    tables, causes = [], {}
    shares = land_buffer_share or {}
    for measure, r in reach.items():
        bcol, ncol = f"{measure}_buffer", f"{measure}_network"
        if bcol not in homes or ncol not in homes:
            continue
        buf = homes[bcol].to_numpy(dtype=bool)
        walk = homes[ncol].to_numpy(dtype=bool)
        gap = np.flatnonzero(buf & ~walk)
        cause = np.full(len(homes), "", dtype=object)
        if gap.size:
            cause[gap] = _classified(index, net, xy[gap], _subset(homes_att, gap), r)
        causes[measure] = cause
        tables.append(
            gap_table(
                measure,
                cause,
                buf,
                walk,
                weights,
                area_share=({"residential_area": shares[measure]} if measure in shares else None),
            )
        )
    for measure, c in (cells or {}).items():
        if measure not in reach:
            continue
        gap = np.flatnonzero(c.buffer & ~c.network)
        cause = np.full(c.buffer.shape[0], "", dtype=object)
        if gap.size:
            cause[gap] = _classified(index, net, c.xy[gap], _subset(c.att, gap), reach[measure])
        share = None if c.area_share is None else {c.basis: c.area_share}
        # the cells covered by neither method weigh in as one row (they only add to the total)
        none = np.zeros(1, dtype=bool)
        weights_c = {c.basis: np.append(np.ones(c.buffer.shape[0]), float(c.n_other))}
        tables.append(
            gap_table(
                measure,
                np.append(cause, ""),
                np.append(c.buffer, none),
                np.append(c.network, none),
                weights_c,
                area_share=share,
            )
        )
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=GAP_COLUMNS)
    return table, causes


@dataclass(frozen=True)
class Cells:
    """Grid cells of an area-based coverage figure, for its gap causes.

    Attributes
    ----------
    xy
        (n, 2) cell centres (m).
    att
        The centres' nearest-edge attachments (``owner`` = cell; cells farther than the search
        limit from every street have none).
    buffer, network
        Per cell: its centre inside the buffer cover; within walking distance.
    basis
        The basis of the figure (``built_up_area`` / ``boundary_area``).
    area_share
        The scorecard's buffer share (0–1) on that basis (measured on the area itself).
    n_other
        Cells of the basis not listed: covered by neither method.
    """

    xy: F64
    att: EdgeAttachment
    buffer: NDArray[np.bool_]
    network: NDArray[np.bool_]
    basis: str
    area_share: float | None
    n_other: int = 0


def _classified(
    index: BarrierIndex, net: WalkNetwork, xy: F64, att: EdgeAttachment, reach: Reach
) -> NDArray[np.object_]:
    """:func:`classify_gaps`, remembered by the content of its points, attachments and reach.

    The network and the barrier index are keyed by identity (the memo keeps them alive); the rest
    by a SHA-1 of their arrays and the facilities' WKB, so the same question gets the same
    answer without the work (a scenario that moved one park leaves the bus stops' gaps as they
    were).
    """
    h = hashlib.sha1(usedforsecurity=False)
    for a in (xy, att.edge, att.t0, att.t1, att.offset_m, att.owner, reach.radius_m):
        arr = np.ascontiguousarray(a)
        h.update(str((arr.dtype, arr.shape)).encode())
        h.update(arr.tobytes())
    h.update(b"".join(shapely.to_wkb(reach.geoms)))
    key = f"causes:{h.hexdigest()}"
    return _CAUSES.get(key, (index, net), lambda: classify_gaps(index, net, xy, att, reach))


def _subset(att: EdgeAttachment, rows: I64) -> EdgeAttachment:
    """The attachments of the homes at positions ``rows``, renumbered ``0..len(rows)-1``."""
    pos = np.full(int(max(att.owner.max(initial=-1), rows.max(initial=-1))) + 1, -1, np.int64)
    pos[rows] = np.arange(rows.shape[0])
    keep = np.flatnonzero(pos[att.owner] >= 0)
    return EdgeAttachment(
        att.edge[keep], att.t0[keep], att.t1[keep], att.offset_m[keep], pos[att.owner[keep]]
    )


#: map colour (R,G,B) of each cause
CAUSE_COLOURS: dict[str, str] = {
    DATA_GAP: "152,78,163",
    FAR: "255,127,0",
    "water": "31,120,180",
    "railway": "40,40,40",
    "expressway": "227,26,28",
    "wall": "166,86,40",
    OTHER: "255,217,47",
}


def gap_homes(homes: gpd.GeoDataFrame, measures: tuple[str, ...]) -> gpd.GeoDataFrame:
    """The gap homes of ``measures``, one row per (home, measure), for a map layer.

    Parameters
    ----------
    homes
        Homes with ``<measure>_gap_cause`` columns (:attr:`CheckResult.homes`), metric CRS.
    measures
        Measures to include (those without a cause column are skipped).

    Returns
    -------
    GeoDataFrame
        ``home_id`` (row of the homes), ``measure``, ``cause``, ``label_zh``, ``label_en``;
        points in the homes' CRS.
    """
    labels = cause_labels()
    parts = []
    for m in measures:
        col = gap_cause_column(m)
        if col not in homes:
            continue
        c = homes[col].to_numpy(dtype=object)
        sel = np.flatnonzero((c != "") & (c != WALK_ONLY))
        parts.append(
            gpd.GeoDataFrame(
                {
                    "home_id": sel,
                    "measure": m,
                    "cause": c[sel],
                    "label_zh": [labels[x][0] for x in c[sel]],
                    "label_en": [labels[x][1] for x in c[sel]],
                },
                geometry=list(homes.geometry.values[sel]),
                crs=homes.crs,
            )
        )
    if not parts:
        names = ("home_id", "measure", "cause", "label_zh", "label_en")
        cols: dict[str, list[object]] = {k: [] for k in names}
        return gpd.GeoDataFrame(cols, geometry=[], crs=homes.crs)
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=homes.crs)


def land_buffer_shares(measures: pd.DataFrame) -> dict[str, float]:
    """Measure → its buffer share of residential land (the gap table's land basis).

    Parameters
    ----------
    measures
        A check's measures (``measure``, ``method``, ``basis``, ``value``).

    Returns
    -------
    dict of str to float
    """
    sel = (measures["method"] == "buffer") & (measures["basis"] == "residential_area")
    rows = measures.loc[sel & measures["value"].notna(), ["measure", "value"]]
    return {str(m): float(v) for m, v in rows.itertuples(index=False)}


def with_causes(
    homes: gpd.GeoDataFrame, causes: Mapping[str, NDArray[np.object_]]
) -> gpd.GeoDataFrame:
    """Homes with a ``<measure>_gap_cause`` column per explained measure.

    Parameters
    ----------
    homes
        The check's homes.
    causes
        Measure → cause per home (:func:`explain_gaps`).

    Returns
    -------
    GeoDataFrame
        A new frame; ``homes`` is not modified.
    """
    if not causes:
        return homes
    extra = pd.DataFrame({gap_cause_column(m): c for m, c in causes.items()}, index=homes.index)
    out = gpd.GeoDataFrame(
        pd.concat([pd.DataFrame(homes), extra], axis=1), geometry=homes.geometry.name, crs=homes.crs
    )
    out.attrs = dict(homes.attrs)
    return out


def grid_cells(
    access: Access, results: Sequence[IndicatorResult], measures: pd.DataFrame
) -> dict[str, Cells]:
    """The grid cells of every area-based coverage measure, ready for :func:`explain_gaps`.

    Parameters
    ----------
    access
        The check's access stage (its grids and their attachments).
    results
        The indicator results (their ``per_cell`` flags).
    measures
        The measures; the buffer row on ``built_up_area`` / ``boundary_area`` gives the basis
        and its share.

    Returns
    -------
    dict of str to Cells
    """
    out: dict[str, Cells] = {}
    area_bases = ("built_up_area", "boundary_area")
    for res in results:
        for measure, flags in res.per_cell.items():
            grid = access.grids.get(flags.spacing_m)
            att = access.grid_att.get(flags.spacing_m)
            sel = (
                (measures["measure"] == measure)
                & (measures["method"] == "buffer")
                & measures["basis"].isin(area_bases)
            )
            rows = measures.loc[sel]
            if grid is None or att is None or not len(rows):
                continue
            value = rows["value"].iloc[0]
            # the attachments follow the grid's cells; renumbered to the listed cells
            pos = np.searchsorted(flags.cells, grid.cells)
            out[measure] = Cells(
                centres_of(grid.xs, grid.ys, flags.cells),
                replace(att, owner=pos[att.owner]),
                flags.buffer,
                flags.network,
                str(rows["basis"].iloc[0]),
                None if pd.isna(value) else float(value),
                grid.n_inside - int(flags.cells.shape[0]),
            )
    return out
