"""Suggest sites that reach a coverage target: bus stops, parks, life-circle facilities.

:func:`suggest_sites` builds the coverage problem of one indicator of the registry (its radius,
method and basis), picks sites greedily (default) or exactly (HiGHS), and returns them ranked
with each one's marginal coverage, the coverage before and after, and how far the greedy is from
the optimum. :func:`write_suggestion` writes the plan layer (GPKG) and a scenario YAML that
``geoplan run`` executes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geoplan._errors import LayerError
from geoplan.city import City
from geoplan.city.homes import homes_from_city
from geoplan.indicators.coverage import inside_flags, residential_land, union_of_buffers
from geoplan.indicators.parks import park_size_m2
from geoplan.io.compounds import Compounds
from geoplan.siting import candidates as cd
from geoplan.siting import problem as pb
from geoplan.siting.solve import Solution, exact_min_sites, greedy
from geoplan.siting.spec import SitingSpec


@dataclass
class SitingResult:
    """Suggested sites and the coverage they reach.

    Attributes
    ----------
    spec
        What was sited.
    sites
        Ranked sites (metric CRS): ``rank``, ``name``, ``marginal`` (share of the basis this site
        adds, 0–1), ``coverage_after`` (share with sites 1..rank), ``source`` and for parks
        ``area_m2`` / ``green_kind``, for facilities ``category``.
    coverage_before, coverage_after
        Shares (0–1) of the basis with the existing features, and with every suggested site, each
        computed as the indicator computes it.
    reachable
        The most any choice of candidates could reach (share; for land, from the samples).
    uncovered
        What is left uncovered with the sites: the land (one polygon, ``area_m2``) or the homes /
        grid points (``weight``; ``reachable`` False where no candidate can serve them).
    summary
        Counts and times: ``n_candidates``, ``n_sites``, ``sites_within_half_pp``,
        ``greedy_sites`` / ``optimal_sites`` (when solved exactly), ``seconds``.
    """

    spec: SitingSpec
    sites: gpd.GeoDataFrame
    coverage_before: float
    coverage_after: float
    reachable: float
    uncovered: gpd.GeoDataFrame
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def reached(self) -> bool:
        """Whether the sites reach the target.

        Returns
        -------
        bool
        """
        return self.coverage_after >= self.spec.target - 1e-9

    def message(self) -> str:
        """One bilingual sentence: how many sites reach what, and what the last 0.5 pp costs.

        Returns
        -------
        str
        """
        s, n = self.spec, len(self.sites)
        tgt = f"{s.target:.1%}"
        if n == 0 and self.reached:
            return f"already {self.coverage_before:.1%} ≥ {tgt}: no site needed 无需新增"
        base = (
            f"{n} more {s.kind.replace('_', ' ')} reach {self.coverage_after:.1%} of "
            f"{s.basis.replace('_', ' ')} ({s.method}, {s.radius_m:g} m); "
            f"新增 {n} 处，覆盖率 {self.coverage_before:.1%} → {self.coverage_after:.1%}"
        )
        if not self.reached:
            return (
                base + f"; target {tgt} out of reach with these candidates (at most "
                f"{self.reachable:.1%}) 候选点无法达到目标"
            )
        k = self.summary.get("sites_within_half_pp", n)
        if k < n:
            base += f"; the last 0.5 pp needs {n - k} of them 最后0.5个百分点需 {n - k} 处"
        return base


def existing_sources(city: City, spec: SitingSpec) -> NDArray[np.object_]:
    """Features of the city that already count for the indicator (as the indicator selects them).

    Parameters
    ----------
    city
        The loaded city (metric CRS).
    spec
        What is sited.

    Returns
    -------
    ndarray of geometry
    """
    if spec.kind == "bus_stops":
        g = city.bus_stops
    elif spec.kind == "parks":
        parks = city.parks
        ok = park_size_m2(parks, "whole") >= (spec.min_area_m2 or 0.0)
        if spec.green_kind == "park":
            ok &= (parks["green_kind"] == "park").to_numpy()
        g = parks.loc[ok]
    else:
        g = city.facilities.loc[city.facilities["category"] == spec.category]
    return np.asarray(g.geometry.values, dtype=object)


def default_candidates(
    city: City, spec: SitingSpec, *, spacing_m: float | None = None, roads: str = "streets"
) -> gpd.GeoDataFrame:
    """Generated candidates: street points (stops, facilities) or park plots beside streets.

    Parameters
    ----------
    city
        The loaded city (metric CRS).
    spec
        What is sited.
    spacing_m
        Spacing (m) along the streets (default by kind).
    roads
        ``streets`` (the street grades) or ``all`` (every walk edge).

    Returns
    -------
    GeoDataFrame
        Candidate sites in ``city.crs``.
    """
    if spec.kind == "parks":
        return cd.park_plot_candidates(
            city,
            min_area_m2=float(spec.min_area_m2 or 400.0),
            spacing_m=100.0 if spacing_m is None else spacing_m,
            roads=roads,
        )
    return cd.street_candidates(
        city, spacing_m=50.0 if spacing_m is None else spacing_m, roads=roads
    )


def suggest_sites(
    city: City,
    *,
    spec: SitingSpec,
    candidates: gpd.GeoDataFrame | None = None,
    candidate_roads: str = "streets",
    homes: gpd.GeoDataFrame | None = None,
    built_up: BaseGeometry | str | None = "osm",
    solver: Literal["greedy", "exact"] = "greedy",
    compare: bool = False,
    spacing_m: float | None = None,
    sample_m: float = 25.0,
    boundary_step_m: float = 2.0,
    grid_spacing_m: float = 100.0,
    max_sites: int = 2000,
    time_limit_s: float = 60.0,
    compounds: Literal["gates", "edges"] = "gates",
) -> SitingResult:
    """Sites that bring one indicator to ``spec.target``, in order of marginal coverage.

    Parameters
    ----------
    city
        A loaded city (metric CRS).
    spec
        What to site (:func:`spec_of`).
    candidates
        Candidate sites in the city's CRS (:func:`geoplan.siting.candidates.layer_candidates`);
        default generated (:func:`default_candidates`).
    candidate_roads
        Generated candidates on ``streets`` (主干路/次干路/支路) or on ``all`` walkable ways.
    homes
        Homes (default :func:`geoplan.city.homes.homes_from_city`; pass the check's homes with
        residents for the ``residents`` basis).
    built_up
        建成区 polygon (metric CRS): the area of the ``boundary_area`` basis, as in the check.
    solver
        ``greedy`` (fast, default) or ``exact`` (fewest sites, HiGHS MILP; for land bases it
        solves the first sampled instance exactly and tops up slivers greedily).
    compare
        Also solve exactly and report the greedy's gap (``greedy_sites`` vs ``optimal_sites``).
    spacing_m
        Spacing (m) of generated candidates (50 along streets, 100 for park plots).
    sample_m
        Sampling step (m) of uncovered land for land bases with the buffer method.
    boundary_step_m, grid_spacing_m
        As the indicators: polygon outline step (m) and the bus indicator's network grid (m).
    max_sites, time_limit_s
        Bounds on the number of sites and the exact solver's time (s).
    compounds
        ``gates`` (default, as the check): with the walking method, homes and grid points inside
        a gated compound (``city.compounds``) reach a site only through its entrances;
        ``edges``: every point walks to its nearest street.

    Returns
    -------
    SitingResult
    """
    t0 = time.perf_counter()
    from geoplan.scoring.built_up import resolve_built_up

    built_up, _ = resolve_built_up(city, built_up)
    cand = (
        default_candidates(city, spec, spacing_m=spacing_m, roads=candidate_roads)
        if candidates is None
        else candidates
    )
    cgeoms = np.asarray(cand.geometry.values, dtype=object)
    existing = existing_sources(city, spec)
    how = _How(solver, compare, max_sites, time_limit_s)
    if spec.method == "buffer" and spec.basis in ("residential_area", "boundary_area"):
        land = _land(city, spec, built_up)
        chosen, before, reachable, info = _buffer_land(cgeoms, existing, land, spec, how, sample_m)
        cover_of = _land_share(existing, land, spec.radius_m)
        final = shapely.union(
            union_of_buffers(existing, spec.radius_m),
            union_of_buffers(cgeoms[chosen], spec.radius_m),
        )
        gap = shapely.difference(land, final)
        uncovered = gpd.GeoDataFrame(
            {"area_m2": [gap.area]}, geometry=gpd.GeoSeries([gap], crs=city.crs), crs=city.crs
        )
    else:
        gated = city.compounds if compounds == "gates" else None
        demand = _discrete_demand(
            city, spec, existing, homes, built_up, boundary_step_m, grid_spacing_m, gated
        )
        A = _matrix(city, spec, cgeoms, demand, boundary_step_m, gated)
        chosen, before, reachable, info = _discrete(A, demand, spec, how)
        cover_of = _discrete_share(A, demand)
        done = demand.covered | (np.asarray(A[chosen].sum(axis=0)).ravel() > 0)
        reach = np.asarray(A.sum(axis=0)).ravel() > 0
        left = ~done & (demand.weight > 0)
        uncovered = gpd.GeoDataFrame(
            {"weight": demand.weight[left], "reachable": reach[left]},
            geometry=gpd.GeoSeries(demand.points[left], crs=city.crs),
            crs=city.crs,
        )
    after = cover_of(cgeoms, chosen)
    cov = after.series
    sites = _sites_frame(city, spec, cand, chosen, cov, before)
    info.update(
        n_candidates=int(cgeoms.size),
        n_existing=int(existing.size),
        n_sites=int(chosen.size),
        sites_within_half_pp=_within(cov, spec.target, 0.005),
        seconds=round(time.perf_counter() - t0, 2),
    )
    return SitingResult(
        spec, sites, before, float(cov[-1]) if cov.size else before, reachable, uncovered, info
    )


def _within(cov: NDArray[np.float64], target: float, tol: float) -> int:
    """Sites needed to come within ``tol`` of the target (or of the final coverage)."""
    if cov.size == 0:
        return 0
    goal = min(target, float(cov[-1])) - tol
    hit = np.flatnonzero(cov >= goal - 1e-12)
    return int(hit[0] + 1) if hit.size else int(cov.size)


def _land(city: City, spec: SitingSpec, built_up: BaseGeometry | None) -> BaseGeometry:
    if spec.basis == "residential_area":
        land = residential_land(city.residential)
        if land.is_empty:
            raise LayerError("no residential land in the study area: use --basis boundary_area")
        return land
    bnd = city.boundary_polygon
    return bnd if built_up is None else shapely.intersection(bnd, built_up)


@dataclass(frozen=True)
class _Cumulative:
    series: NDArray[np.float64]


def _land_share(existing: NDArray[np.object_], land: BaseGeometry, r: float) -> Any:
    """Exact cumulative share of land covered after each chosen site (the indicator's buffers)."""

    def f(cgeoms: NDArray[np.object_], chosen: NDArray[np.int64]) -> _Cumulative:
        cover = union_of_buffers(existing, r)
        out = []
        for j in chosen:
            cover = shapely.union(cover, shapely.buffer(cgeoms[j], r, quad_segs=16))
            out.append(float(shapely.intersection(land, cover).area / land.area))
        return _Cumulative(np.asarray(out))

    return f


def _discrete_share(A: Any, demand: pb.Demand) -> Any:
    def f(cgeoms: NDArray[np.object_], chosen: NDArray[np.int64]) -> _Cumulative:
        cov = demand.covered.copy()
        out = []
        for j in chosen:
            cov[A.indices[A.indptr[j] : A.indptr[j + 1]]] = True
            out.append(float(demand.weight[cov].sum() / demand.total) if demand.total else 0.0)
        return _Cumulative(np.asarray(out))

    return f


@dataclass(frozen=True, slots=True)
class _How:
    """How sites are picked: the solver, whether to compare with the exact one, the bounds."""

    solver: str
    compare: bool
    max_sites: int
    time_limit_s: float


def _buffer_land(
    cgeoms: NDArray[np.object_],
    existing: NDArray[np.object_],
    land: BaseGeometry,
    spec: SitingSpec,
    how: _How,
    sample_m: float,
) -> tuple[NDArray[np.int64], float, float, dict[str, Any]]:
    """Rounds: sample the uncovered land, pick sites for the samples, measure exactly, repeat."""
    area = land.area
    r = spec.radius_m
    cover = union_of_buffers(existing, r)
    share = float(shapely.intersection(land, cover).area / area)
    before = share
    chosen: list[int] = []
    info: dict[str, Any] = {}
    reachable = 1.0
    free = np.ones(cgeoms.size, dtype=bool)
    for rnd in range(40):
        if share >= spec.target - 1e-9 or len(chosen) >= how.max_sites:
            break
        gap = shapely.difference(land, cover)
        samples, w = pb.sample_area(gap, sample_m)
        if samples.size == 0:
            break
        A = pb.buffer_matrix(cgeoms, r, samples)
        A = A.multiply(free[:, None]).tocsr()
        reach = np.asarray(A.sum(axis=0)).ravel() > 0
        if rnd == 0:
            reachable = share + float(w[reach].sum()) / area
        need = min((spec.target - share) * area, float(w[reach].sum()))
        first = _How(how.solver, how.compare, how.max_sites - len(chosen), how.time_limit_s)
        later = _How("greedy", False, how.max_sites - len(chosen), how.time_limit_s)
        sol = _solve(A, w, need, first if rnd == 0 else later, info)
        if sol.chosen.size == 0:
            break
        chosen += sol.chosen.tolist()
        free[sol.chosen] = False
        cover = shapely.union(cover, union_of_buffers(cgeoms[sol.chosen], r))
        share = float(shapely.intersection(land, cover).area / area)
    info["rounds"] = rnd + 1 if cgeoms.size else 0
    return np.asarray(chosen, dtype=np.int64), before, min(1.0, reachable), info


def _solve(
    A: Any, w: NDArray[np.float64], need: float, how: _How, info: dict[str, Any]
) -> Solution:
    g = greedy(A, w, need=need, max_sites=how.max_sites)
    if how.solver != "exact" and not how.compare:
        return g
    t = time.perf_counter()
    ex = exact_min_sites(A, w, need=min(need, g.covered_weight), time_limit_s=how.time_limit_s)
    info.update(
        greedy_sites=int(g.chosen.size),
        optimal_sites=int(ex.chosen.size) if ex.optimal is not None else None,
        optimal_proven=bool(ex.optimal),
        exact_seconds=round(time.perf_counter() - t, 2),
        exact_status=str(ex.status),
    )
    return ex if how.solver == "exact" and ex.optimal is not None else g


def _discrete_demand(
    city: City,
    spec: SitingSpec,
    existing: NDArray[np.object_],
    homes: gpd.GeoDataFrame | None,
    built_up: BaseGeometry | None,
    boundary_step_m: float,
    grid_spacing_m: float,
    compounds: Compounds | None,
) -> pb.Demand:
    net = city.network
    r = spec.radius_m
    if spec.basis == "boundary_area":  # network only (buffer land bases go through _buffer_land)
        area = _land(city, spec, built_up)
        pts = pb.network_grid(area, grid_spacing_m)
        cov = pb.network_covered(
            net,
            existing,
            r,
            pts,
            boundary_step_m=boundary_step_m,
            max_attach_m=r,
            compounds=compounds,
        )
        return pb.Demand(pts, np.ones(pts.size), cov, float(pts.size))
    homes = homes_from_city(city) if homes is None else homes
    pts = np.asarray(homes.geometry.values, dtype=object)
    w = pb.home_weights(homes, spec.basis)
    if spec.method == "buffer":
        cov = inside_flags(union_of_buffers(existing, r), homes)
    else:
        cov = pb.network_covered(
            net, existing, r, pts, boundary_step_m=boundary_step_m, compounds=compounds
        )
    return pb.Demand(pts, w, cov, float(w.sum()))


def _matrix(
    city: City,
    spec: SitingSpec,
    cgeoms: NDArray[np.object_],
    demand: pb.Demand,
    boundary_step_m: float,
    compounds: Compounds | None,
) -> Any:
    if spec.method == "buffer":
        return pb.buffer_matrix(cgeoms, spec.radius_m, demand.points)
    attach = spec.radius_m if spec.basis == "boundary_area" else None
    A, _ = pb.network_matrix(
        city.network,
        cgeoms,
        spec.radius_m,
        demand.points,
        boundary_step_m=boundary_step_m,
        max_attach_m=attach,
        compounds=compounds,
    )
    return A


def _discrete(
    A: Any, demand: pb.Demand, spec: SitingSpec, how: _How
) -> tuple[NDArray[np.int64], float, float, dict[str, Any]]:
    total = demand.total
    if total <= 0:
        raise LayerError(f"nothing to cover: the {spec.basis.replace('_', ' ')} basis is empty")
    w = np.where(demand.covered, 0.0, demand.weight)
    before = float(demand.weight[demand.covered].sum() / total)
    reach = np.asarray(A.sum(axis=0)).ravel() > 0
    reachable = before + float(w[reach].sum() / total)
    need = min(max(0.0, spec.target - before) * total, float(w[reach].sum()))
    info: dict[str, Any] = {}
    if need <= 1e-12 * total:
        return np.zeros(0, np.int64), before, reachable, info
    sol = _solve(A, w, need, how, info)
    return sol.chosen, before, min(1.0, reachable), info


def _sites_frame(
    city: City,
    spec: SitingSpec,
    cand: gpd.GeoDataFrame,
    chosen: NDArray[np.int64],
    cov: NDArray[np.float64],
    before: float,
) -> gpd.GeoDataFrame:
    n = chosen.size
    rank = np.arange(1, n + 1)
    df = pd.DataFrame(
        {
            "rank": rank,
            "name": [f"{spec.label_zh} {i}" for i in rank],
            "marginal": np.diff(np.concatenate([[before], cov])) if n else np.zeros(0),
            "coverage_after": cov,
            "source": cand["source"].to_numpy()[chosen] if "source" in cand else "layer",
        }
    )
    if "layer_row" in cand.columns:
        df["layer_row"] = cand["layer_row"].to_numpy()[chosen]
    geoms = np.asarray(cand.geometry.values, dtype=object)[chosen]
    if spec.kind == "parks":
        df["area_m2"] = shapely.area(geoms)
        df["green_kind"] = spec.green_kind
    if spec.kind == "facilities":
        df["category"] = spec.category
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries(geoms, crs=city.crs), crs=city.crs)


__all__ = ["SitingResult", "default_candidates", "existing_sources", "suggest_sites"]
