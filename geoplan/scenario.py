"""Plan scenarios: the city as it is (baseline) plus the plan's layers, checked side by side.

A :class:`Scenario` is a list of changes to a baseline :class:`~geoplan.City`: add parks,
facilities, bus stops, roads / paths (they join the walk network, :mod:`geoplan._network_edit`,
and count in 路网密度 with their grade), residential parcels (with residents where known); remove
existing features by OSM id, inside a polygon, or all of a kind. :meth:`Scenario.apply` returns a
new City (the baseline is never modified); :meth:`Scenario.run` checks baseline and plan against a
target sheet and compares them (:class:`ScenarioResult`): scorecards side by side with deltas,
``count_added`` targets from the features added, per-home "newly covered" flags, a table per unit
(街道 / 社区 polygons or a grid), a change map. :class:`ScenarioSession` keeps the baseline and an
:class:`~geoplan.check.AccessCache` so that editing one layer recomputes only what it changed.

Scenarios are Python (this API) or declarative YAML files (:func:`load_scenario_file`)::

    name: chengdu_pocket_parks
    city: {osm: ../shared/data/chengdu_2018_center.osm.pbf,
           boundary: [104.0421, 30.6528, 104.1296, 30.7279]}
    targets: xinxiang-gxq-2019
    changes:
      - {add: parks, layer: layers/chengdu_pocket_parks.geojson, coord_system: gcj02}
      - {remove: bus_stops, all: true}

>>> from geoplan.scenario import Scenario
>>> s = Scenario("more_parks").add_parks("layers/demo_parks.geojson")    # doctest: +SKIP
>>> result = s.run(geoplan.load_city("demo"), sheet="xinxiang-gxq-2019")  # doctest: +SKIP
>>> result.scorecard[["target_id", "measured_baseline", "measured_plan"]]  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib.util
import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeAlias

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely
import yaml
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra
from shapely.geometry.base import BaseGeometry

from . import taxonomy as tx
from ._atomic import atomic_path
from ._errors import GeoplanError, ScenarioError
from ._network_edit import add_lines
from .access import attach_points, facility_sources, nearest_distance_m
from .check import AccessCache, CheckResult, check_city, scorecard
from .city import City, _clip, load_city
from .homes import homes_from_city
from .indicators import SUMMARY_COLUMNS, buffer_share
from .plan_layers import PlanLayer, read_plan_layer
from .projection import WGS84
from .targets import Target, TargetSheet, load_target_sheet

__all__ = [
    "ADD_KINDS",
    "REMOVE_KINDS",
    "CitySpec",
    "Scenario",
    "ScenarioResult",
    "ScenarioSession",
    "compare",
    "load_scenario_file",
    "plan_bus_stops",
    "run_scenario_file",
]

LayerLike: TypeAlias = str | Path | gpd.GeoDataFrame | PlanLayer
CoordSystem: TypeAlias = Literal["wgs84", "gcj02", "bd09"]

#: what a scenario can add, and the geometry each needs
ADD_KINDS: dict[str, tuple[str, ...]] = {
    "parks": ("Polygon",),
    "facilities": ("Point", "Polygon"),
    "bus_stops": ("Point", "Polygon"),
    "roads": ("LineString",),
    "paths": ("LineString",),
    "residential": ("Polygon",),
}
#: what a scenario can remove (layers of :class:`~geoplan.City`)
REMOVE_KINDS = ("parks", "facilities", "bus_stops", "roads", "residential", "buildings")

#: measures shown per unit and per home: key -> (buffer coverage key, network home column)
KEY_MEASURES: dict[str, tuple[str, str]] = {
    "park_service": ("park_service_buffer", "park_service_network"),
    "green_300": ("green_300_buffer", "green_300_network"),
    "park_500": ("park_500_buffer", "park_500_network"),
    "bus_cov_500": ("bus_cov_500_buffer", "bus_cov_500_network"),
    "bus_cov_300": ("bus_cov_300_buffer", "bus_cov_300_network"),
    "lc_15min": ("15min_complete_buffer", "lc_15min_complete_network"),
}

_ID_BASE = 1_000_000  # plan features get osmid -(change_no * _ID_BASE + i + 1)


# --------------------------------------------------------------------------------------------
# the base city


@dataclass(frozen=True)
class CitySpec:
    """How to load a scenario's baseline city (:func:`geoplan.load_city` arguments).

    ``osm`` is a local extract or ``"demo"``; ``boundary`` a ``(min_lon, min_lat, max_lon,
    max_lat)`` bbox or a vector file; ``crs`` a metric CRS (default: UTM).
    """

    osm: str = "demo"
    boundary: tuple[float, ...] | str | None = None
    crs: str | int | None = None
    name: str | None = None
    include_private: bool = False

    def load(self) -> City:
        return load_city(
            self.osm,
            boundary=self.boundary,
            crs=self.crs,
            name=self.name,
            include_private=self.include_private,
            progress=False,
        )


# --------------------------------------------------------------------------------------------
# changes


@dataclass(frozen=True)
class Change:
    """One change of a scenario (see :class:`Scenario` methods)."""

    op: Literal["add", "remove"]
    kind: str
    layer: LayerLike | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class ChangeLog:
    """Features a scenario added and removed (metric CRS of the city), with the change number."""

    added: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    removed: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    residents: dict[int, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out = {f"added_{k}": len(v) for k, v in self.added.items()}
        out.update({f"removed_{k}": len(v) for k, v in self.removed.items()})
        return out


class Scenario:
    """A baseline city plus changes. Methods return the scenario, so calls chain.

    Parameters
    ----------
    name
        Scenario name (file names of the outputs).
    base
        The baseline: a loaded :class:`~geoplan.City`, a :class:`CitySpec`, or a mapping of its
        fields. Optional when the city is passed to :meth:`apply` / :meth:`run`.
    targets
        Target sheet id (``"zhengzhou-zhongyuan-2019"`` …) used by :meth:`run` by default.
    units
        Units for the per-unit table: a polygon layer (街道 / 社区, any format
        :func:`~geoplan.plan_layers.read_plan_layer` reads) or ``None`` for a square grid of
        ``grid_m`` metres.
    """

    def __init__(
        self,
        name: str,
        *,
        base: City | CitySpec | Mapping[str, Any] | None = None,
        targets: str | TargetSheet = "national",
        units: LayerLike | None = None,
        units_name_column: str | None = None,
        grid_m: float = 500.0,
        description: str = "",
    ) -> None:
        self.name = name
        self.base = CitySpec(**base) if isinstance(base, Mapping) else base
        self.targets = targets
        self.units = units
        self.units_name_column = units_name_column
        self.grid_m = grid_m
        self.description = description
        self.changes: list[Change] = []
        self.source: Path | None = None
        self._notes: list[str] = []

    def __repr__(self) -> str:
        return f"Scenario({self.name!r}, {len(self.changes)} changes)"

    # ---- building ---------------------------------------------------------------------------

    def _add(self, op: Literal["add", "remove"], kind: str, layer: Any, **params: Any) -> Scenario:
        self.changes.append(Change(op, kind, layer, params))
        return self

    def add_parks(
        self,
        layer: LayerLike,
        *,
        green_kind: Literal["park", "green"] = "park",
        name_column: str | None = None,
        coord_system: CoordSystem = "wgs84",
        crs: str | int | None = None,
    ) -> Scenario:
        """Add public green polygons; ``green_kind`` "park" (公园) or "green" (other 绿地). A
        ``green_kind`` column in the layer wins per feature. ``area_m2`` is computed in the city's
        metric CRS."""
        return self._add(
            "add",
            "parks",
            layer,
            green_kind=green_kind,
            name_column=name_column,
            coord_system=coord_system,
            crs=crs,
        )

    def add_facilities(
        self,
        layer: LayerLike,
        *,
        category: str,
        name_column: str | None = None,
        coord_system: CoordSystem = "wgs84",
        crs: str | int | None = None,
    ) -> Scenario:
        """Add facilities of a life-circle ``category`` (``clinic``, ``primary_school`` …)."""
        return self._add(
            "add",
            "facilities",
            layer,
            category=category,
            name_column=name_column,
            coord_system=coord_system,
            crs=crs,
        )

    def add_bus_stops(
        self,
        layer: LayerLike,
        *,
        name_column: str | None = None,
        coord_system: CoordSystem = "wgs84",
        crs: str | int | None = None,
    ) -> Scenario:
        """Add bus stops (points; polygons become their representative point)."""
        return self._add(
            "add",
            "bus_stops",
            layer,
            name_column=name_column,
            coord_system=coord_system,
            crs=crs,
        )

    def add_roads(
        self,
        layer: LayerLike,
        *,
        highway: str = "residential",
        snap_m: float = 5.0,
        name_column: str | None = None,
        coord_system: CoordSystem = "wgs84",
        crs: str | int | None = None,
    ) -> Scenario:
        """Add roads (OSM ``highway`` value → grade, ``road_grades.yaml``): they count in road
        density with that grade and, when walkable, join the walk network (vertices within
        ``snap_m`` metres of it snap; crossings split edges). A ``highway`` column wins."""
        return self._add(
            "add",
            "roads",
            layer,
            highway=highway,
            snap_m=snap_m,
            name_column=name_column,
            coord_system=coord_system,
            crs=crs,
        )

    def add_paths(
        self,
        layer: LayerLike,
        *,
        highway: str = "footway",
        snap_m: float = 5.0,
        coord_system: CoordSystem = "wgs84",
        crs: str | int | None = None,
    ) -> Scenario:
        """Add walking paths: they join the walk network but are not roads (no density)."""
        return self._add(
            "add",
            "paths",
            layer,
            highway=highway,
            snap_m=snap_m,
            coord_system=coord_system,
            crs=crs,
        )

    def add_residential(
        self,
        layer: LayerLike,
        *,
        residents_column: str | None = None,
        name_column: str | None = None,
        coord_system: CoordSystem = "wgs84",
        crs: str | int | None = None,
    ) -> Scenario:
        """Add residential parcels (居住用地); homes are sampled in them. With
        ``residents_column`` their residents are shared equally among their homes."""
        return self._add(
            "add",
            "residential",
            layer,
            residents_column=residents_column,
            name_column=name_column,
            coord_system=coord_system,
            crs=crs,
        )

    def remove(
        self,
        kind: str,
        *,
        ids: Sequence[int] | None = None,
        within: LayerLike | BaseGeometry | tuple[float, ...] | None = None,
        all: bool = False,
        category: str | None = None,
    ) -> Scenario:
        """Close / remove existing features of ``kind`` (one of :data:`REMOVE_KINDS`): by OSM id
        (``ids``), those whose representative point lies inside ``within`` (a polygon layer, a
        WGS84 shapely polygon or a lon/lat bbox), or ``all``. ``category`` narrows facilities.
        Removed roads also leave the walk network (edges of those ways)."""
        if kind not in REMOVE_KINDS:
            raise ScenarioError(_unknown("remove kind", kind, REMOVE_KINDS, "in Scenario.remove"))
        if sum(x is not None and x is not False for x in (ids, within, all or None)) != 1:
            raise ScenarioError(
                f"Scenario.remove({kind!r}): give exactly one of ids=, within= or all=True"
            )
        return self._add("remove", kind, None, ids=ids, within=within, all=all, category=category)

    # ---- applying ---------------------------------------------------------------------------

    def apply(self, city: City) -> City:
        """A new City with the changes applied; ``city`` is not modified."""
        return self.apply_with_log(city)[0]

    def apply_with_log(self, city: City) -> tuple[City, ChangeLog]:
        """:meth:`apply`, and what was added and removed (:class:`ChangeLog`)."""
        layers = {
            k: getattr(city, k).copy()
            for k in ("roads", "facilities", "parks", "bus_stops", "residential", "buildings")
        }
        net = city.network
        log = ChangeLog()
        bnd = city.boundary_polygon
        bnd_wgs = gpd.GeoSeries([bnd], crs=city.crs).to_crs(WGS84).iloc[0]
        new_lines: list[tuple[BaseGeometry, str, float, int]] = []
        removed_road_ids: list[int] = []
        for no, ch in enumerate(self.changes, start=1):
            where = f"{self._where()}change {no} ({ch.op} {ch.kind})"
            if ch.op == "add":
                gdf = self._read(ch, city.crs, bnd_wgs, where)
                ids = -(no * _ID_BASE + np.arange(len(gdf), dtype=np.int64) + 1)
                added = _ADDERS[ch.kind](gdf, ids, ch.params, city, where)
                added["change"] = no
                layer_name = "roads" if ch.kind == "paths" else ch.kind
                if ch.kind != "paths":
                    cols = list(layers[layer_name].columns)
                    clipped = _clip(added, bnd)
                    layers[layer_name] = _concat(layers[layer_name], clipped[cols])
                log.added[ch.kind] = _concat(log.added.get(ch.kind), added)
                if ch.kind in ("roads", "paths"):
                    rules = tx.walk_rules()
                    snap = float(ch.params.get("snap_m", 5.0))
                    for g, hw, oid in zip(
                        added.geometry, added["highway"], added["osmid"], strict=True
                    ):
                        if rules.walkable({"highway": str(hw)}):
                            new_lines.append((g, str(hw), snap, int(oid)))
                if ch.kind == "residential" and ch.params.get("residents_column"):
                    log.residents.update(
                        {
                            int(o): float(r)
                            for o, r in zip(added["osmid"], added["residents"], strict=True)
                            if np.isfinite(r)
                        }
                    )
            else:
                gdf = layers[ch.kind]
                mask = self._remove_mask(ch, gdf, city, where)
                log.removed[ch.kind] = _concat(
                    log.removed.get(ch.kind), gdf.loc[mask].assign(change=no)
                )
                layers[ch.kind] = gdf.loc[~mask].reset_index(drop=True)
                if ch.kind == "roads":
                    removed_road_ids += gdf.loc[mask, "osmid"].astype(np.int64).tolist()
        if removed_road_ids:
            net = net.select_edges(~np.isin(net.edge_osmid, removed_road_ids))
        for g, hw, snap, oid in new_lines:
            net = add_lines(net, [g], snap_m=snap, highway=hw, osmid=oid)
        plan = dataclasses.replace(
            city,
            name=f"{city.name} + {self.name}",
            boundary=city.boundary.copy(),
            network=net,
            report=dataclasses.replace(city.report, notes=[*city.report.notes, *log.notes]),
            **{k: v.reset_index(drop=True) for k, v in layers.items()},
        )
        return plan, log

    def _where(self) -> str:
        return f"{self.source}: " if self.source else f"scenario {self.name!r}: "

    def _read(
        self, ch: Change, crs: pyproj.CRS, bnd_wgs: BaseGeometry, where: str
    ) -> gpd.GeoDataFrame:
        layer = ch.layer
        if isinstance(layer, PlanLayer):
            gdf = layer.gdf
        elif isinstance(layer, gpd.GeoDataFrame):
            if layer.crs is None:
                raise ScenarioError(f"{where}: the GeoDataFrame has no CRS; set one (.set_crs)")
            gdf = layer
        elif isinstance(layer, str | Path):
            path = self._resolve(layer)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                gdf = read_plan_layer(
                    path,
                    crs=ch.params.get("crs"),
                    coord_system=ch.params.get("coord_system", "wgs84"),
                    kind=ch.kind,
                    study_area=bnd_wgs,
                    geometry_types=ADD_KINDS[ch.kind],
                ).gdf
            for w in caught:
                self._notes.append(str(w.message))
        else:
            raise ScenarioError(f"{where}: layer must be a file path or a GeoDataFrame")
        out = gdf.to_crs(crs)
        if ch.kind == "bus_stops":
            pts = shapely.get_type_id(out.geometry.values) != 0
            if pts.any():
                geoms = out.geometry.values.copy()
                geoms[pts] = shapely.point_on_surface(geoms[pts])
                out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=crs))
        return out.reset_index(drop=True)

    def _resolve(self, p: str | Path) -> Path:
        return resolve_path(p, self.source)

    def _remove_mask(
        self, ch: Change, gdf: gpd.GeoDataFrame, city: City, where: str
    ) -> NDArray[np.bool_]:
        prm = ch.params
        if prm.get("all"):
            mask = np.ones(len(gdf), dtype=bool)
        elif prm.get("ids") is not None:
            mask = gdf["osmid"].isin([int(i) for i in prm["ids"]]).to_numpy()
        else:
            poly = self._within_polygon(prm["within"], city, where)
            rep = shapely.point_on_surface(gdf.geometry.values)
            shapely.prepare(poly)
            mask = shapely.contains(poly, rep) if len(gdf) else np.zeros(0, dtype=bool)
        if prm.get("category") and "category" in gdf.columns:
            mask &= (gdf["category"] == prm["category"]).to_numpy()
        return np.asarray(mask, dtype=bool)

    def _within_polygon(self, within: Any, city: City, where: str) -> BaseGeometry:
        if isinstance(within, tuple | list):
            if len(within) != 4:
                raise ScenarioError(
                    f"{where}: within bbox must be [min_lon, min_lat, max_lon, max_lat]"
                )
            g = gpd.GeoSeries([shapely.box(*map(float, within))], crs=WGS84)
        elif isinstance(within, BaseGeometry):
            g = gpd.GeoSeries([within], crs=WGS84)
        elif isinstance(within, gpd.GeoDataFrame):
            g = within.geometry
        else:
            g = read_plan_layer(self._resolve(within), geometry_types=("Polygon",)).gdf.geometry
        return shapely.union_all(g.to_crs(city.crs).values)

    # ---- running ----------------------------------------------------------------------------

    def run(
        self,
        city: City | None = None,
        *,
        sheet: str | TargetSheet | None = None,
        cache: AccessCache | None = None,
        session: ScenarioSession | None = None,
    ) -> ScenarioResult:
        """Check the baseline and the plan against ``sheet`` (default: the scenario's targets)
        and compare them. Pass a :class:`ScenarioSession` (or an ``AccessCache``) to reuse the
        loaded baseline and the access results of unchanged categories across runs."""
        if session is None:
            if city is None:
                city = self.load_base()
            session = ScenarioSession(city, cache=cache)
        return session.run(self, sheet=sheet)

    def load_base(self) -> City:
        """The baseline city (loads a :class:`CitySpec`)."""
        if isinstance(self.base, City):
            return self.base
        if isinstance(self.base, CitySpec):
            return self.base.load()
        raise ScenarioError(f"{self._where()}no base city: pass base= or a City to run()")


def resolve_path(p: str | Path, source: Path | None) -> Path:
    """A layer path: absolute; else relative to the scenario file's folder, its parent (the
    project), or the working directory — the first that exists."""
    path = Path(p)
    if path.is_absolute():
        return path
    tries = [path]
    if source is not None:
        tries = [source.parent / path, source.parent.parent / path, path]
    for t in tries:
        if t.exists():
            return t
    return tries[0]


def _concat(a: gpd.GeoDataFrame | None, b: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if a is None or len(a) == 0:
        return b.reset_index(drop=True)
    if len(b) == 0:
        return a.reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        out = pd.concat([a, b], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=a.crs)


def _text(gdf: gpd.GeoDataFrame, col: str | None, default: str = "") -> list[str]:
    col = col or ("name" if "name" in gdf.columns else None)
    if col is None:
        return [default] * len(gdf)
    return [
        "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in gdf[col]
    ]


def _add_parks(
    gdf: gpd.GeoDataFrame, ids: NDArray[np.int64], p: Mapping[str, Any], city: City, where: str
) -> gpd.GeoDataFrame:
    kind = (
        gdf["green_kind"].astype(str).to_numpy()
        if "green_kind" in gdf.columns
        else np.full(len(gdf), p.get("green_kind", "park"), dtype=object)
    )
    bad = sorted(set(kind) - {"park", "green"})
    if bad:
        raise ScenarioError(f"{where}: green_kind must be park or green, not {bad[0]!r}")
    area = gdf.geometry.area.to_numpy()
    return gpd.GeoDataFrame(
        {
            "osmid": ids,
            "osm_type": "plan",
            "green_kind": kind,
            "name": _text(gdf, p.get("name_column")),
            "leisure": np.where(kind == "park", "park", "garden"),
            "area_m2": area,
            "area_in_boundary_m2": shapely.area(
                shapely.intersection(gdf.geometry.values, city.boundary_polygon)
            ),
        },
        geometry=gdf.geometry.values,
        crs=city.crs,
    )


def _add_facilities(
    gdf: gpd.GeoDataFrame, ids: NDArray[np.int64], p: Mapping[str, Any], city: City, where: str
) -> gpd.GeoDataFrame:
    cats = tx.categories()
    cat = str(p["category"])
    if cat not in cats:
        raise ScenarioError(_unknown("facility category", cat, sorted(cats), where))
    return gpd.GeoDataFrame(
        {
            "osmid": ids,
            "osm_type": "plan",
            "category": cat,
            "category_zh": cats[cat].label_zh,
            "name": _text(gdf, p.get("name_column")),
            "school_level_from": "",
        },
        geometry=gdf.geometry.values,
        crs=city.crs,
    )


def _add_bus_stops(
    gdf: gpd.GeoDataFrame, ids: NDArray[np.int64], p: Mapping[str, Any], city: City, where: str
) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"osmid": ids, "osm_type": "plan", "name": _text(gdf, p.get("name_column"))},
        geometry=gdf.geometry.values,
        crs=city.crs,
    )


def _add_roads(
    gdf: gpd.GeoDataFrame, ids: NDArray[np.int64], p: Mapping[str, Any], city: City, where: str
) -> gpd.GeoDataFrame:
    hw = (
        gdf["highway"].astype(str).to_numpy()
        if "highway" in gdf.columns
        else np.full(len(gdf), p.get("highway", "residential"), dtype=object)
    )
    grades = tx.road_grades()
    grade = [tx.road_grade(h) for h in hw]
    return gpd.GeoDataFrame(
        {
            "osmid": ids,
            "highway": hw,
            "grade": grade,
            "name": _text(gdf, p.get("name_column")),
            "oneway": "no",
            "lanes": "",
            "width": gdf["width"].astype(str) if "width" in gdf.columns else "",
            "grade_zh": [grades[g].label_zh if g else "" for g in grade],
            "length_m": gdf.geometry.length.to_numpy(),
        },
        geometry=gdf.geometry.values,
        crs=city.crs,
    )


def _add_residential(
    gdf: gpd.GeoDataFrame, ids: NDArray[np.int64], p: Mapping[str, Any], city: City, where: str
) -> gpd.GeoDataFrame:
    col = p.get("residents_column")
    if col and col not in gdf.columns:
        raise ScenarioError(
            f"{where}: the layer has no column {col!r} (residents_column); "
            f"columns are {[c for c in gdf.columns if c != 'geometry']}"
        )
    res = (
        pd.to_numeric(gdf[col], errors="coerce").to_numpy(dtype=float)
        if col
        else np.full(len(gdf), np.nan)
    )
    return gpd.GeoDataFrame(
        {
            "osmid": ids,
            "osm_type": "plan",
            "name": _text(gdf, p.get("name_column")),
            "area_m2": shapely.area(
                shapely.intersection(gdf.geometry.values, city.boundary_polygon)
            ),
            "residents": res,
        },
        geometry=gdf.geometry.values,
        crs=city.crs,
    )


_ADDERS: dict[str, Callable[..., gpd.GeoDataFrame]] = {
    "parks": _add_parks,
    "facilities": _add_facilities,
    "bus_stops": _add_bus_stops,
    "roads": _add_roads,
    "paths": lambda g, i, p, c, w: _add_roads(
        g, i, {**p, "highway": p.get("highway", "footway")}, c, w
    ),
    "residential": _add_residential,
}


# --------------------------------------------------------------------------------------------
# running and comparing


@dataclass
class ScenarioResult:
    """Baseline vs plan.

    Attributes
    ----------
    scorecard
        One row per (target, method): ``measured_baseline``, ``measured_plan``, ``delta``,
        ``status_baseline``, ``status_plan``, ``gap_plan`` and the target's columns.
    measures
        Every measure side by side (``value_baseline``, ``value_plan``, ``delta``).
    homes
        Plan homes (metric CRS) with, for each coverage flag ``f`` (network flags of the check
        and ``<measure>_buffer`` = home inside the buffer coverage), ``new_<f>`` = False in the
        baseline and True in the plan; ``new_home`` for homes the plan added.
    units
        Per unit (街道 / 社区 polygon or grid cell): residential area, homes, and baseline / plan
        coverage shares of the key measures (buffer over residential land, network by area).
    """

    name: str
    baseline: CheckResult
    plan: CheckResult
    plan_city: City
    base_city: City
    log: ChangeLog
    scorecard: pd.DataFrame
    measures: pd.DataFrame
    homes: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    seconds: dict[str, float]
    notes: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """The checkable scorecard rows, compact."""
        sc = self.scorecard
        sc = sc.loc[sc["status_plan"] != "not checkable"]
        return sc[
            [
                "target_id",
                "method",
                "basis",
                "target",
                "measured_baseline",
                "measured_plan",
                "delta",
                "status_baseline",
                "status_plan",
            ]
        ].reset_index(drop=True)

    def write(
        self, out: str | Path, *, map_path: str | Path | None = None, lang: str = "zh"
    ) -> dict[str, Path]:
        """Write CSVs, one XLSX and the change map, each atomically.

        Files: ``OUT/<name>_scorecard.csv``, ``_measures.csv``, ``_units.csv``, ``_homes.csv``,
        ``OUT/<name>_comparison.xlsx`` and the map ``OUT/maps/<name>.html`` (or ``map_path``).
        """
        out = Path(out)
        stem = _safe(self.name)
        homes = _plain(self.homes)
        units = _plain(self.units)
        added = _plain_concat(self.log.added)
        removed = _plain_concat(self.log.removed)
        paths: dict[str, Path] = {}
        for key, frame in (
            ("scorecard", self.scorecard),
            ("measures", self.measures),
            ("units", units),
            ("homes", homes),
        ):
            p = out / f"{stem}_{key}.csv"
            with atomic_path(p) as tmp:
                frame.to_csv(tmp, index=False, encoding="utf-8-sig")
            paths[key] = p
        xlsx = out / f"{stem}_comparison.xlsx"
        with atomic_path(xlsx) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            for key, frame in (
                ("scorecard", self.scorecard),
                ("measures", self.measures),
                ("units", units),
                ("homes", homes),
                ("added", added),
                ("removed", removed),
            ):
                frame.to_excel(xw, sheet_name=key, index=False)
        paths["xlsx"] = xlsx
        mp = Path(map_path) if map_path is not None else out / "maps" / f"{stem}.html"
        paths["map"] = change_map(self, mp, lang=lang)
        return paths


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name) or "scenario"


def _plain(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """A GeoDataFrame as a table: WKT geometry (points as lon / lat), WGS84."""
    if len(gdf) == 0:
        return pd.DataFrame(gdf.drop(columns="geometry", errors="ignore"))
    w = gdf.to_crs(WGS84)
    df = pd.DataFrame(w.drop(columns="geometry"))
    if (shapely.get_type_id(w.geometry.values) == 0).all():
        df["lon"] = w.geometry.x.round(7)
        df["lat"] = w.geometry.y.round(7)
    else:
        df["wkt"] = shapely.to_wkt(w.geometry.values, rounding_precision=7)
    return df


def _plain_concat(parts: Mapping[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    frames = []
    for kind, g in parts.items():
        if len(g):
            df = _plain(g.assign(geometry=g.geometry.values))
            if "wkt" not in df:
                df["wkt"] = shapely.to_wkt(g.to_crs(WGS84).geometry.values, rounding_precision=7)
            frames.append(df.drop(columns=["lon", "lat"], errors="ignore").assign(kind=kind))
    if not frames:
        return pd.DataFrame({"kind": [], "wkt": []})
    return pd.concat(frames, ignore_index=True)


class ScenarioSession:
    """Keeps a loaded baseline, its check and an :class:`AccessCache` across scenario runs.

    Editing one layer of a scenario and running it again recomputes only the categories whose
    inputs changed (the cache is keyed by network, homes, facility geometries and limit).

    >>> session = ScenarioSession(geoplan.load_city("demo"))   # doctest: +SKIP
    >>> r1 = session.run(scenario); r2 = session.run(scenario)  # doctest: +SKIP
    """

    def __init__(self, city: City, *, cache: AccessCache | None = None) -> None:
        self.city = city
        self.cache = cache if cache is not None else AccessCache()
        self._baseline: dict[str, CheckResult] = {}
        self._base_homes = homes_from_city(city)

    def baseline(self, sheet: str | TargetSheet) -> CheckResult:
        """The baseline check against ``sheet`` (computed once per sheet)."""
        ts = sheet if isinstance(sheet, TargetSheet) else load_target_sheet(sheet)
        if ts.id not in self._baseline:
            self._baseline[ts.id] = check_city(
                self.city, sheet=ts, homes=self._base_homes, cache=self.cache
            )
        return self._baseline[ts.id]

    def run(self, scenario: Scenario, *, sheet: str | TargetSheet | None = None) -> ScenarioResult:
        """Apply ``scenario`` to the baseline, check both, compare."""
        seconds: dict[str, float] = {}
        t0 = time.perf_counter()
        ts = sheet or scenario.targets
        ts = ts if isinstance(ts, TargetSheet) else load_target_sheet(ts)
        t = time.perf_counter()
        base = self.baseline(ts)
        seconds["baseline_check"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        scenario._notes.clear()
        plan_city, log = scenario.apply_with_log(self.city)
        log.notes += scenario._notes
        seconds["apply"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        homes = _plan_homes(self.city, plan_city, self._base_homes, log)
        plan = check_city(plan_city, sheet=ts, homes=homes, cache=self.cache)
        if len(plan_city.bus_stops) == 0 and len(log.removed.get("bus_stops", ())):
            plan = _no_bus_stops(plan, ts)
        seconds["plan_check"] = round(time.perf_counter() - t, 3)
        t = time.perf_counter()
        units = _units_layer(scenario, self.city)
        result = compare(base, plan, base_city=self.city, plan_city=plan_city, log=log, units=units)
        result.name = scenario.name
        seconds["compare"] = round(time.perf_counter() - t, 3)
        seconds["total"] = round(time.perf_counter() - t0, 3)
        result.seconds = seconds
        return result


def _no_bus_stops(res: CheckResult, ts: TargetSheet) -> CheckResult:
    """Bus-stop coverage is 0 (not "no data") when the scenario removed every stop."""
    ms = res.measures.loc[res.measures["indicator"] != "bus_stop_coverage"]
    rows = []
    for r in (300.0, 500.0):
        for method, basis in (
            ("buffer", "boundary_area"),
            ("buffer", "residential_area"),
            ("network", "homes"),
            ("network", "residential_area"),
            ("network", "boundary_area"),
        ):
            rows.append(
                {
                    "indicator": "bus_stop_coverage",
                    "measure": f"bus_cov_{r:g}",
                    "method": method,
                    "basis": basis,
                    "value": 0.0,
                    "unit": "share",
                    "label_zh": f"公交站点{r:g}米覆盖率",
                    "label_en": f"Bus stop {r:g} m coverage",
                    "note": "every bus stop removed by the scenario",
                }
            )
    measures = pd.concat([ms, pd.DataFrame(rows, columns=SUMMARY_COLUMNS)], ignore_index=True)
    homes = res.homes.copy()
    for r in (300, 500):
        homes[f"bus_cov_{r}_network"] = False
    return dataclasses.replace(
        res, measures=measures, homes=homes, scorecard=scorecard(ts, measures)
    )


def _plan_homes(
    base: City, plan: City, base_homes: gpd.GeoDataFrame, log: ChangeLog
) -> gpd.GeoDataFrame:
    """Homes of the plan: the baseline's when residential land and buildings are unchanged."""
    same = (
        "residential" not in log.added
        and "residential" not in log.removed
        and "buildings" not in log.removed
    )
    homes = base_homes if same else homes_from_city(plan)
    if log.residents:
        homes = homes.copy()
        pid = homes["parcel_osmid"].to_numpy()
        for osmid, res in log.residents.items():
            m = pid == osmid
            if m.any():
                homes.loc[m, "residents"] = res / m.sum()
        log.notes.append(
            "residents are known only in the added parcels: the residents share covers them only"
        )
    return homes


def _units_layer(scenario: Scenario, city: City) -> gpd.GeoDataFrame:
    if scenario.units is None:
        return grid_units(city.boundary_polygon, city.crs, cell_m=scenario.grid_m)
    u = scenario.units
    if isinstance(u, gpd.GeoDataFrame):
        gdf = u.to_crs(city.crs)
    else:
        path = u.source if isinstance(u, PlanLayer) else scenario._resolve(u)
        gdf = read_plan_layer(path, geometry_types=("Polygon",)).gdf.to_crs(city.crs)
    col = scenario.units_name_column or ("name" if "name" in gdf.columns else None)
    names = gdf[col].astype(str).to_numpy() if col else np.arange(len(gdf)).astype(str)
    return gpd.GeoDataFrame({"unit": names}, geometry=gdf.geometry.values, crs=city.crs)


def grid_units(poly: BaseGeometry, crs: pyproj.CRS, *, cell_m: float = 500.0) -> gpd.GeoDataFrame:
    """Square cells of ``cell_m`` metres over ``poly`` (metric CRS), cut to it; ``unit`` = "r_c"."""
    minx, miny, maxx, maxy = poly.bounds
    xs = np.arange(np.floor(minx / cell_m) * cell_m, maxx, cell_m)
    ys = np.arange(np.floor(miny / cell_m) * cell_m, maxy, cell_m)
    gx, gy = np.meshgrid(xs, ys)
    cells = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + cell_m, gy.ravel() + cell_m)
    names = np.array([f"{r}_{c}" for r in range(len(ys)) for c in range(len(xs))])
    cut = shapely.intersection(cells, poly)
    keep = ~shapely.is_empty(cut) & (shapely.area(cut) > 0)
    return gpd.GeoDataFrame({"unit": names[keep]}, geometry=cut[keep], crs=crs)


# ---- compare ---------------------------------------------------------------------------------


def count_added(log: ChangeLog, target: Target) -> int:
    """Features of the target's ``kind`` the scenario added, within its area bounds (m²).

    Kinds: ``park`` (``green_kind == "park"``), ``micro_park`` / ``pocket_park`` / ``green``
    (any public green), ``bus_stop``, ``road``; else a facility category.
    """
    p = dict(target.params)
    kind = str(p.get("kind", ""))
    lo = float(p.get("min_area_m2", -math.inf))
    hi = float(p.get("max_area_m2", math.inf))
    if kind in ("park", "micro_park", "pocket_park", "green"):
        g = log.added.get("parks")
        if g is None or len(g) == 0:
            return 0
        m = (g["area_m2"] >= lo) & (g["area_m2"] < hi)
        if kind == "park":
            m &= g["green_kind"] == "park"
        return int(m.sum())
    if kind == "bus_stop":
        return len(log.added.get("bus_stops", ()))
    if kind == "road":
        return len(log.added.get("roads", ()))
    fac = log.added.get("facilities")
    return 0 if fac is None else int((fac["category"] == kind).sum())


def _count_rows(sheet: TargetSheet, log: ChangeLog | None) -> dict[str, pd.DataFrame]:
    empty = pd.DataFrame(columns=SUMMARY_COLUMNS)
    out = {}
    for t in sheet.targets:
        if t.checkable and t.indicator == "count_added":
            n = 0 if log is None else count_added(log, t)
            one = dataclasses.replace(sheet, targets=(t,))
            out[t.id] = scorecard(one, empty, extra={"count_added": float(n)})
    return out


def _with_counts(card: pd.DataFrame, rows: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    parts = []
    for tid, grp in card.groupby("target_id", sort=False):
        parts.append(rows.get(str(tid), grp))
    return pd.concat(parts, ignore_index=True) if parts else card


def _home_flags(res: CheckResult) -> pd.DataFrame:
    """Boolean coverage flags per home: the network flags and ``<key>`` = inside a buffer cover."""
    h = res.homes
    flags = {c: h[c].to_numpy(dtype=bool) for c in h.columns if h[c].dtype == bool}
    pts = h.geometry.values
    for key, geom in res.coverage.items():
        if key.endswith("_buffer") and geom.geom_type in ("Polygon", "MultiPolygon"):
            shapely.prepare(geom)
            flags[key] = np.asarray(shapely.intersects(geom, pts), dtype=bool)
    return pd.DataFrame(flags, index=h.index)


def _xy_key(g: gpd.GeoSeries) -> NDArray[np.object_]:
    return np.array([f"{x:.2f},{y:.2f}" for x, y in zip(g.x, g.y, strict=True)], dtype=object)


def compare(
    base: CheckResult,
    plan: CheckResult,
    *,
    base_city: City,
    plan_city: City,
    log: ChangeLog | None = None,
    units: gpd.GeoDataFrame | None = None,
) -> ScenarioResult:
    """Baseline and plan side by side (see :class:`ScenarioResult`)."""
    log = log or ChangeLog()
    sheet = plan.sheet
    card_b = _with_counts(base.scorecard, _count_rows(sheet, None))
    card_p = _with_counts(plan.scorecard, _count_rows(sheet, log))
    key = ["target_id", "method", "basis"]
    b = card_b[[*key, "measured", "status", "gap"]].rename(
        columns={
            "measured": "measured_baseline",
            "status": "status_baseline",
            "gap": "gap_baseline",
        }
    )
    b = b.drop_duplicates(key)
    sc = card_p.rename(
        columns={"measured": "measured_plan", "status": "status_plan", "gap": "gap_plan"}
    )
    sc = sc.merge(b, on=key, how="left")
    sc["delta"] = sc["measured_plan"] - sc["measured_baseline"]
    cols = [
        "target_id",
        "indicator",
        "label_zh",
        "label_en",
        "method",
        "basis",
        "op",
        "target",
        "unit",
        "measured_baseline",
        "measured_plan",
        "delta",
        "status_baseline",
        "status_plan",
        "gap_baseline",
        "gap_plan",
        "clause",
        "note",
    ]
    sc = sc[cols]

    mk = ["indicator", "measure", "method", "basis"]
    mb = (
        base.measures[[*mk, "value"]]
        .drop_duplicates(mk)
        .rename(columns={"value": "value_baseline"})
    )
    ms = plan.measures.rename(columns={"value": "value_plan"}).merge(mb, on=mk, how="outer")
    ms["delta"] = ms["value_plan"] - ms["value_baseline"]
    ms = ms[[*mk, "label_zh", "label_en", "unit", "value_baseline", "value_plan", "delta", "note"]]

    # per home
    fb, fp = _home_flags(base), _home_flags(plan)
    kb = pd.Series(np.arange(len(base.homes)), index=_xy_key(base.homes.geometry))
    kb = kb[~kb.index.duplicated()]
    kp = _xy_key(plan.homes.geometry)
    match = kb.reindex(kp).to_numpy()
    new_home = np.isnan(match)
    mi = np.where(new_home, 0, match).astype(np.int64)
    homes = plan.homes[
        [
            c
            for c in ("home_id", "source", "parcel_osmid", "area_m2", "residents")
            if c in plan.homes
        ]
    ].copy()
    homes["new_home"] = new_home
    any_new = np.zeros(len(homes), dtype=bool)
    for c in fp.columns:
        was = fb[c].to_numpy()[mi] if c in fb.columns else np.zeros(len(homes), dtype=bool)
        was = np.where(new_home, False, was)
        now = fp[c].to_numpy()
        homes[f"new_{c}"] = now & ~was
        if c.startswith(("park_", "green_", "bus_cov_", "lc_15min_complete", "15min")):
            any_new |= now & ~was
        if any(c == v for pair in KEY_MEASURES.values() for v in pair):
            homes[f"{c}_baseline"] = was
            homes[f"{c}_plan"] = now
    homes["newly_covered_any"] = any_new
    homes = gpd.GeoDataFrame(homes, geometry=plan.homes.geometry.values, crs=plan.homes.crs)

    units_out = _unit_table(
        units if units is not None else grid_units(plan_city.boundary_polygon, plan_city.crs),
        base,
        plan,
        base_city,
        plan_city,
    )
    notes = list(log.notes)
    if int(np.sum(~pd.Index(kb.index).isin(kp))):
        notes.append(
            f"{int(np.sum(~pd.Index(kb.index).isin(kp)))} baseline homes are not in the plan"
        )
    return ScenarioResult(
        name=plan_city.name,
        baseline=base,
        plan=plan,
        plan_city=plan_city,
        base_city=base_city,
        log=log,
        scorecard=sc,
        measures=ms,
        homes=homes,
        units=units_out,
        seconds={},
        notes=notes,
    )


def _unit_table(
    units: gpd.GeoDataFrame,
    base: CheckResult,
    plan: CheckResult,
    base_city: City,
    plan_city: City,
) -> gpd.GeoDataFrame:
    out = units[["unit"]].copy()
    ug = units.geometry.values
    land_b = shapely.union_all(base_city.residential.geometry.values)
    land_p = shapely.union_all(plan_city.residential.geometry.values)
    res_b = shapely.intersection(ug, land_b)
    res_p = shapely.intersection(ug, land_p)
    out["residential_m2_baseline"] = shapely.area(res_b)
    out["residential_m2_plan"] = shapely.area(res_p)
    hb_unit = _which_unit(units, base.homes)
    hp_unit = _which_unit(units, plan.homes)
    out["homes_baseline"] = np.bincount(hb_unit[hb_unit >= 0], minlength=len(units))
    out["homes_plan"] = np.bincount(hp_unit[hp_unit >= 0], minlength=len(units))
    for name, (cov_key, home_col) in KEY_MEASURES.items():
        for tag, res, land, hu in (
            ("baseline", base, res_b, hb_unit),
            ("plan", plan, res_p, hp_unit),
        ):
            cov = res.coverage.get(cov_key)
            la = shapely.area(land)
            if cov is None:
                share = np.full(len(units), np.nan)
            else:
                share = np.where(
                    la > 0,
                    shapely.area(shapely.intersection(land, cov)) / np.where(la > 0, la, 1),
                    np.nan,
                )
            out[f"{name}_buffer_{tag}"] = share
            if home_col in res.homes.columns:
                w = res.homes["area_m2"].to_numpy(dtype=float)
                w = np.where(w > 0, w, 0.0)
                ok = res.homes[home_col].to_numpy(dtype=bool)
                m = hu >= 0
                tot = np.bincount(hu[m], weights=w[m], minlength=len(units))
                cv = np.bincount(hu[m], weights=(w * ok)[m], minlength=len(units))
                out[f"{name}_network_{tag}"] = np.where(
                    tot > 0, cv / np.where(tot > 0, tot, 1), np.nan
                )
            else:
                out[f"{name}_network_{tag}"] = np.nan
        for meth in ("buffer", "network"):
            out[f"{name}_{meth}_delta"] = (
                out[f"{name}_{meth}_plan"] - out[f"{name}_{meth}_baseline"]
            )
    return gpd.GeoDataFrame(out, geometry=units.geometry.values, crs=units.crs)


def _which_unit(units: gpd.GeoDataFrame, homes: gpd.GeoDataFrame) -> NDArray[np.int64]:
    idx = np.full(len(homes), -1, dtype=np.int64)
    if len(homes) == 0 or len(units) == 0:
        return idx
    tree = shapely.STRtree(units.geometry.values)
    ih, iu = tree.query(homes.geometry.values, predicate="intersects")
    idx[ih[::-1]] = iu[::-1]  # first unit wins
    return idx


# --------------------------------------------------------------------------------------------
# change map


def change_map(result: ScenarioResult, path: str | Path, *, lang: str = "zh") -> Path:
    """Write the change map: the plan city with its coverage, newly covered homes, the added and
    removed features and the plan layers (``geoplan.webmap``), atomically."""
    from .webmap import build_map, save_map

    plan = result.plan
    cov = {
        k: v
        for k, v in plan.coverage.items()
        if k in ("park_service_buffer", "green_300_buffer", "park_500_buffer", "bus_cov_500_buffer")
    }
    card = result.scorecard.loc[result.scorecard["status_plan"] != "not checkable"].copy()
    card = card.rename(
        columns={"measured_plan": "measured", "status_plan": "status", "gap_plan": "gap"}
    )
    homes = plan.homes.copy()
    m = build_map(
        result.plan_city,
        homes=homes,
        coverage=cov,
        scorecard=card[
            ["indicator", "label_zh", "label_en", "method", "measured", "target", "status", "gap"]
        ],
        lang="en" if lang == "en" else "zh",
    )
    zh = lang != "en"
    nh = result.homes.loc[result.homes["newly_covered_any"]]
    for col, label_zh, label_en in (
        (
            "new_park_service_network",
            "新覆盖住宅·公园服务（步行）",
            "Newly covered homes · park service (walk)",
        ),
        (
            "new_park_service_buffer",
            "新覆盖住宅·公园服务（半径）",
            "Newly covered homes · park service (radius)",
        ),
        (
            "new_bus_cov_500_network",
            "新覆盖住宅·公交500米（步行）",
            "Newly covered homes · bus 500 m (walk)",
        ),
        (
            "new_bus_cov_500_buffer",
            "新覆盖住宅·公交500米（半径）",
            "Newly covered homes · bus 500 m (radius)",
        ),
        (
            "new_green_300_network",
            "新覆盖住宅·300米见绿（步行）",
            "Newly covered homes · green 300 m (walk)",
        ),
    ):
        if col in nh.columns and nh[col].any():
            _points_layer(m, nh.loc[nh[col]], label_zh if zh else label_en, "#7b2cbf")
    for kind, g in result.log.added.items():
        label = f"规划新增·{kind}" if zh else f"Plan: added {kind}"
        _feature_layer(m, g, label, "#e63946" if kind == "bus_stops" else "#1d7a1d")
    for kind, g in result.log.removed.items():
        label = f"规划移除·{kind}" if zh else f"Plan: removed {kind}"
        _feature_layer(m, g, label, "#555555", dash=True)
    # the layer control lists the layers present when it was added: add it again, last
    for key, child in list(m._children.items()):
        if isinstance(child, folium.LayerControl):
            del m._children[key]
    folium.LayerControl(collapsed=True).add_to(m)
    return save_map(m, path)


def _points_layer(m: folium.Map, gdf: gpd.GeoDataFrame, name: str, colour: str) -> None:
    w = gdf.to_crs(WGS84)
    fg = folium.FeatureGroup(name=name, show=True)
    for x, y in zip(w.geometry.x.round(6), w.geometry.y.round(6), strict=True):
        folium.CircleMarker(
            [y, x], radius=3, color=colour, fill=True, weight=1, fill_opacity=0.9
        ).add_to(fg)
    fg.add_to(m)


def _feature_layer(
    m: folium.Map, gdf: gpd.GeoDataFrame, name: str, colour: str, *, dash: bool = False
) -> None:
    if len(gdf) == 0:
        return
    w = gdf.to_crs(WGS84)
    keep = [
        c for c in ("osmid", "name", "category", "area_m2", "highway", "change") if c in w.columns
    ]
    w = w[[*keep, "geometry"]].copy()
    if "area_m2" in w:
        w["area_m2"] = w["area_m2"].round(0)
    for c in ("name", "category", "highway"):
        if c in w:
            w[c] = w[c].astype(str)
    w["geometry"] = shapely.set_precision(w.geometry.values, 1e-6)
    style = {"color": colour, "weight": 3, "fillOpacity": 0.35, "fillColor": colour}
    if dash:
        style["dashArray"] = "6 4"
    fg = folium.FeatureGroup(name=name, show=True)
    folium.GeoJson(
        w.__geo_interface__,
        style_function=lambda _f, s=style: s,
        marker=folium.CircleMarker(radius=5, color=colour, fill=True, fill_opacity=0.9),
        tooltip=folium.GeoJsonTooltip(fields=keep) if keep else None,
    ).add_to(fg)
    fg.add_to(m)


# --------------------------------------------------------------------------------------------
# greedy bus-stop planner


def plan_bus_stops(
    city: City,
    *,
    radius_m: float = 500.0,
    target: float = 1.0,
    method: Literal["buffer", "network"] = "buffer",
    over: Literal["residential", "boundary"] = "residential",
    spacing_m: float = 50.0,
    sample_m: float = 25.0,
    max_stops: int = 1000,
) -> gpd.GeoDataFrame:
    """Place new bus stops greedily in the largest uncovered gaps until coverage reaches ``target``.

    Candidates are points every ``spacing_m`` metres along the road edges of the walk network
    (grades that count in 路网密度: stops stand on streets). Each step adds the candidate that
    covers the most uncovered land:

    - ``method="buffer"`` (服务半径, the official method): land within ``radius_m`` straight-line
      of a stop; ``over="residential"`` residential land, ``"boundary"`` the whole study area.
      Land is sampled every ``sample_m`` m; once every sample is covered, the exact uncovered
      slivers (computed with the same 16-segment buffers as
      :func:`geoplan.indicators.bus_stop_coverage`) are sampled and the loop goes on until the
      exact share reaches ``target``;
    - ``method="network"``: homes (by their residential land area; ``over="boundary"``: the 100 m
      grid of the check) whose walking distance to a stop is within ``radius_m``.

    Existing stops count. Returns the new stops (points in ``city.crs``) with ``order``,
    ``gain_m2`` / ``gain`` and ``coverage_after``; ``attrs`` holds ``coverage_before``,
    ``coverage_after``, ``reached`` and ``unreachable`` (land or homes no candidate can serve).
    """
    if method not in ("buffer", "network"):
        raise GeoplanError(f"method must be 'buffer' or 'network', not {method!r}")
    cand = _candidates(city, spacing_m)
    if method == "buffer":
        return _greedy_buffer(city, cand, radius_m, target, over, sample_m, max_stops)
    return _greedy_network(city, cand, radius_m, target, over, max_stops)


def _candidates(
    city: City, spacing_m: float
) -> tuple[NDArray[np.object_], NDArray[np.int64], NDArray[np.float64]]:
    net = city.network
    grades = tx.road_grades()
    counted = {k for k, v in grades.items() if v.counts_in_density}
    road = np.array([tx.road_grade(str(h)) in counted for h in net.edge_highway], dtype=bool)
    shapely.prepare(city.boundary_polygon)
    road &= shapely.intersects(city.boundary_polygon, net.edge_geometry)
    edges = np.flatnonzero(road)
    glen = shapely.length(net.edge_geometry[edges])
    n = np.maximum(1, np.ceil(glen / spacing_m).astype(np.int64))
    rep = np.repeat(np.arange(edges.size), n + 1)
    k = np.arange(rep.size) - np.repeat(np.cumsum(n + 1) - (n + 1), n + 1)
    t = k / n[rep]
    pts = shapely.line_interpolate_point(net.edge_geometry[edges[rep]], t, normalized=True)
    inside = shapely.contains(city.boundary_polygon, pts)
    return np.asarray(pts[inside], dtype=object), edges[rep][inside], t[inside]


def _result_gdf(
    city: City,
    pts: list[BaseGeometry],
    gains: list[float],
    cov: list[float],
    attrs: dict[str, Any],
    gain_name: str,
) -> gpd.GeoDataFrame:
    g = gpd.GeoDataFrame(
        {
            "order": np.arange(1, len(pts) + 1),
            "name": [f"规划公交站 {i}" for i in range(1, len(pts) + 1)],
            gain_name: gains,
            "coverage_after": cov,
        },
        geometry=gpd.GeoSeries(pts, crs=city.crs),
        crs=city.crs,
    )
    g.attrs.update(attrs)
    return g


def _greedy_buffer(
    city: City,
    cand: tuple[NDArray[np.object_], NDArray[np.int64], NDArray[np.float64]],
    radius_m: float,
    target: float,
    over: str,
    sample_m: float,
    max_stops: int,
) -> gpd.GeoDataFrame:
    bnd = city.boundary_polygon
    land = bnd if over == "boundary" else shapely.union_all(city.residential.geometry.values)
    existing = np.asarray(city.bus_stops.geometry.values, dtype=object)
    share0, cover = buffer_share(existing, radius_m, land)
    share0 = share0 or 0.0
    pts_c = cand[0]
    # a sample within r_in of a candidate is inside its 16-segment buffer polygon
    r_in = radius_m * math.cos(math.pi / 64) - 0.01
    chosen: list[BaseGeometry] = []
    gains: list[float] = []
    covs: list[float] = []
    share = share0
    unreachable = 0.0
    cover_geom = cover
    for _round in range(30):
        if share >= target - 1e-9 or len(chosen) >= max_stops:
            break
        gap = shapely.difference(land, cover_geom) if not cover_geom.is_empty else land
        samples, weights = _sample_area(gap, sample_m)
        if samples.size == 0:
            break
        tree = shapely.STRtree(samples)
        ic, isamp = tree.query(pts_c, predicate="dwithin", distance=r_in)
        A = sp.csr_matrix((np.ones(ic.size), (ic, isamp)), shape=(pts_c.size, samples.size))
        reach = np.asarray(A.sum(axis=0)).ravel() > 0
        unreachable = float(weights[~reach].sum())
        w = np.where(reach, weights, 0.0)
        progressed = False
        while len(chosen) < max_stops:
            gain = A @ w
            j = int(np.argmax(gain))
            if gain[j] <= 0:
                break
            progressed = True
            chosen.append(pts_c[j])
            gains.append(float(gain[j]))
            row = A.indices[A.indptr[j] : A.indptr[j + 1]]
            w[row] = 0.0
            covs.append(float("nan"))
        s_new, cover_geom = buffer_share(
            np.concatenate([existing, np.asarray(chosen, dtype=object)]), radius_m, land
        )
        share = s_new or 0.0
        if not progressed:
            break
    # coverage after each stop (exact, cheap enough for the final list only at the end)
    covs = _cumulative_buffer(existing, chosen, radius_m, land)
    return _result_gdf(
        city,
        chosen,
        gains,
        covs,
        {
            "method": "buffer",
            "over": over,
            "radius_m": radius_m,
            "coverage_before": share0,
            "coverage_after": share,
            "reached": share >= target - 1e-9,
            "unreachable_m2": unreachable,
        },
        "gain_m2",
    )


def _cumulative_buffer(
    existing: NDArray[np.object_], chosen: list[BaseGeometry], r: float, land: BaseGeometry
) -> list[float]:
    if not chosen:
        return []
    if land.area <= 0:
        return [float("nan")] * len(chosen)
    cover = (
        shapely.union_all(shapely.buffer(existing, r, quad_segs=16))
        if existing.size
        else shapely.Polygon()
    )
    out = []
    shapely.prepare(land)
    for p in chosen:
        cover = shapely.union(cover, shapely.buffer(p, r, quad_segs=16))
        out.append(float(shapely.intersection(land, cover).area / land.area))
    return out


def _sample_area(gap: BaseGeometry, step: float) -> tuple[NDArray[np.object_], NDArray[np.float64]]:
    """Grid samples (``step``) in ``gap`` weighted by cell area, plus one point per sliver part
    (its inner point and vertices) so that thin leftovers are never missed."""
    if gap.is_empty or gap.area <= 1e-6:
        return np.zeros(0, dtype=object), np.zeros(0)
    minx, miny, maxx, maxy = gap.bounds
    xs = np.arange(np.floor(minx / step) * step + step / 2, maxx, step)
    ys = np.arange(np.floor(miny / step) * step + step / 2, maxy, step)
    gx, gy = np.meshgrid(xs, ys)
    pts = shapely.points(gx.ravel(), gy.ravel())
    shapely.prepare(gap)
    pts = pts[shapely.contains(gap, pts)]
    w = np.full(pts.size, step * step)
    parts = shapely.get_parts(gap)
    parts = parts[shapely.area(parts) > 1e-6]
    extra = [shapely.point_on_surface(parts)]
    verts = shapely.points(shapely.get_coordinates(shapely.get_exterior_ring(parts)))
    extra.append(verts)
    ex = np.concatenate(extra)
    ew = np.full(ex.size, 1.0)
    ew[: parts.size] = shapely.area(parts)
    return np.concatenate([pts, ex]).astype(object), np.concatenate([w, ew])


def _greedy_network(
    city: City,
    cand: tuple[NDArray[np.object_], NDArray[np.int64], NDArray[np.float64]],
    radius_m: float,
    target: float,
    over: str,
    max_stops: int,
) -> gpd.GeoDataFrame:
    net = city.network
    if over == "boundary":
        from .indicators import _grid

        pts = _grid(city.boundary_polygon, 100.0)
        weights = np.ones(pts.size)
    else:
        homes = homes_from_city(city)
        pts = np.asarray(homes.geometry.values, dtype=object)
        weights = homes["area_m2"].to_numpy(dtype=float)
        if weights.sum() <= 0:
            weights = np.ones(pts.size)
    att = attach_points(net, pts)
    order = np.argsort(att.owner)
    he, ht, ho = att.edge[order], att.t0[order], att.offset_m[order]
    src = facility_sources(net, np.asarray(city.bus_stops.geometry.values, dtype=object))
    d0 = nearest_distance_m(net, att, src, limit_m=radius_m)[order]
    covered = d0 <= radius_m
    total = weights.sum()
    share0 = float(weights[covered].sum() / total) if total else 0.0

    pts_c, ce, ct = cand
    L = net.edge_length_m
    hu, hv, hl = net.edge_u[he], net.edge_v[he], L[he]
    rows, cols = [], []
    for a in range(0, ce.size, 256):
        e = ce[a : a + 256]
        du = dijkstra(net.csr, directed=False, indices=net.edge_u[e], limit=radius_m)
        dv = dijkstra(net.csr, directed=False, indices=net.edge_v[e], limit=radius_m)
        le = L[e][:, None]
        tn = ct[a : a + 256][:, None]
        dn = np.minimum(du + tn * le, dv + (1 - tn) * le)  # candidate -> every node
        dh = np.minimum(dn[:, hu] + ht * hl, dn[:, hv] + (1 - ht) * hl) + ho
        same = e[:, None] == he[None, :]
        direct = np.abs(tn - ht[None, :]) * hl[None, :] + ho[None, :]
        dh = np.where(same, np.minimum(dh, direct), dh)
        r, c = np.nonzero(dh <= radius_m)
        rows.append(a + r)
        cols.append(c)
    A = sp.csr_matrix(
        (
            np.ones(sum(r.size for r in rows)),
            (
                np.concatenate(rows) if rows else np.zeros(0, int),
                np.concatenate(cols) if cols else np.zeros(0, int),
            ),
        ),
        shape=(pts_c.size, pts.size),
    )
    reach = (np.asarray(A.sum(axis=0)).ravel() > 0) | covered
    unreachable = float(weights[~reach].sum() / total) if total else 0.0
    w = np.where(covered, 0.0, weights)
    chosen: list[BaseGeometry] = []
    gains: list[float] = []
    covs: list[float] = []
    share = share0
    while share < target - 1e-9 and len(chosen) < max_stops:
        gain = A @ w
        j = int(np.argmax(gain))
        if gain[j] <= 0:
            break
        row = A.indices[A.indptr[j] : A.indptr[j + 1]]
        covered[row] = True
        w[row] = 0.0
        share = float(weights[covered].sum() / total)
        chosen.append(pts_c[j])
        gains.append(float(gain[j] / total))
        covs.append(share)
    return _result_gdf(
        city,
        chosen,
        gains,
        covs,
        {
            "method": "network",
            "over": over,
            "radius_m": radius_m,
            "coverage_before": share0,
            "coverage_after": share,
            "reached": share >= target - 1e-9,
            "unreachable_share": unreachable,
        },
        "gain",
    )


# --------------------------------------------------------------------------------------------
# scenario files


_TOP_KEYS = ("name", "description", "city", "targets", "units", "changes")
_CITY_KEYS = ("osm", "boundary", "crs", "name", "include_private")
_UNIT_KEYS = ("layer", "name_column", "grid_m", "crs", "coord_system")
_LAYER_KEYS = ("layer", "coord_system", "crs", "name_column")
_CHANGE_KEYS: dict[tuple[str, str], tuple[str, ...]] = {
    ("add", "parks"): (*_LAYER_KEYS, "green_kind"),
    ("add", "facilities"): (*_LAYER_KEYS, "category"),
    ("add", "bus_stops"): _LAYER_KEYS,
    ("add", "roads"): (*_LAYER_KEYS, "highway", "snap_m"),
    ("add", "paths"): ("layer", "coord_system", "crs", "highway", "snap_m"),
    ("add", "residential"): (*_LAYER_KEYS, "residents_column"),
}
_REMOVE_KEYS = ("ids", "within", "all", "category")
_TYPES: dict[str, tuple[type, ...]] = {
    "layer": (str,),
    "coord_system": (str,),
    "crs": (str, int),
    "name_column": (str,),
    "green_kind": (str,),
    "category": (str,),
    "highway": (str,),
    "snap_m": (int, float),
    "residents_column": (str,),
    "ids": (list,),
    "within": (str, list),
    "all": (bool,),
    "grid_m": (int, float),
}


def _unknown(what: str, got: str, valid: Sequence[str], where: str) -> str:
    close = difflib.get_close_matches(str(got), list(valid), n=1, cutoff=0.5)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{where}: unknown {what} {got!r}; {hint}valid: {', '.join(valid)}"


def _check_keys(d: Mapping[str, Any], valid: Sequence[str], where: str, what: str = "key") -> None:
    for k in d:
        if k not in valid:
            raise ScenarioError(_unknown(what, str(k), valid, where))


def _check_type(key: str, value: Any, where: str) -> None:
    types = _TYPES.get(key)
    if types is None or (isinstance(value, bool) and bool not in types):
        if types is not None:
            raise ScenarioError(
                f"{where}: {key!r} must be {' or '.join(t.__name__ for t in types)}, got {value!r}"
            )
        return
    if not isinstance(value, types):
        raise ScenarioError(
            f"{where}: {key!r} must be {' or '.join(t.__name__ for t in types)}, "
            f"got {type(value).__name__} {value!r}"
        )


def load_scenario_file(path: str | Path) -> Scenario:
    """Read and validate a scenario: a YAML file or a Python script.

    YAML keys: ``name``, ``description``, ``city`` (``osm``, ``boundary``, ``crs``, ``name``,
    ``include_private``), ``targets`` (sheet id), ``units`` (``layer`` + ``name_column``, or
    ``grid_m``), ``changes``: a list of ``{add: KIND, layer: FILE, ...}`` (KIND in
    :data:`ADD_KINDS`) or ``{remove: KIND, ids: [...] | within: FILE | all: true}``. Layer paths
    are relative to the file's folder, else its parent (the project).

    A Python script defines ``scenario`` (a :class:`Scenario`) or ``def build(city) -> Scenario``
    with an optional ``CITY = {...}`` (as the YAML ``city``) and ``TARGETS``.

    Raises :class:`~geoplan.ScenarioError` with one line naming the file, the change number and
    the fix (the closest valid key for typos).
    """
    p = Path(path)
    if not p.exists() and p.suffix == "":
        for ext in (".yaml", ".yml", ".py"):
            if p.with_suffix(ext).exists():
                p = p.with_suffix(ext)
                break
    if not p.is_file():
        raise ScenarioError(f"{p}: scenario file not found; give scenarios/NAME.yaml or .py")
    if p.suffix == ".py":
        return _load_py(p)
    if p.suffix not in (".yaml", ".yml"):
        raise ScenarioError(f"{p}: a scenario is a .yaml/.yml or .py file")
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        at = f" at line {line + 1}" if line is not None else ""
        raise ScenarioError(f"{p}: not valid YAML{at}; check indentation and colons") from exc
    if not isinstance(doc, dict):
        raise ScenarioError(f"{p}: the file must be a mapping with keys {', '.join(_TOP_KEYS)}")
    _check_keys(doc, _TOP_KEYS, str(p))
    if "changes" not in doc:
        raise ScenarioError(f"{p}: missing key 'changes'; list the plan's changes under changes:")
    name = doc.get("name", p.stem)
    if not isinstance(name, str):
        raise ScenarioError(f"{p}: 'name' must be text, got {name!r}")
    city = doc.get("city", {"osm": "demo"})
    if city == "demo":
        city = {"osm": "demo"}
    if not isinstance(city, dict):
        raise ScenarioError(f"{p}: 'city' must be a mapping (osm:, boundary:, crs:) or 'demo'")
    _check_keys(city, _CITY_KEYS, f"{p}: city", "city key")
    osm = str(city.get("osm", "demo"))
    if osm != "demo":
        op = resolve_path(osm, p)
        if not op.exists():
            raise ScenarioError(
                f"{p}: city osm file {osm!r} not found; give a path relative to the scenario file"
            )
        osm = str(op)
    bnd = city.get("boundary")
    if isinstance(bnd, list):
        if len(bnd) != 4 or not all(isinstance(v, int | float) for v in bnd):
            raise ScenarioError(
                f"{p}: city boundary must be [min_lon, min_lat, max_lon, max_lat] or a file"
            )
        bnd = tuple(float(v) for v in bnd)
    elif isinstance(bnd, str):
        bp = resolve_path(bnd, p)
        if not bp.exists():
            raise ScenarioError(f"{p}: city boundary file {bnd!r} not found")
        bnd = str(bp)
    elif bnd is not None:
        raise ScenarioError(f"{p}: city boundary must be a bbox list or a file path, got {bnd!r}")
    if "crs" in city:
        _check_type("crs", city["crs"], f"{p}: city")
    spec = CitySpec(
        osm=osm,
        boundary=bnd,
        crs=city.get("crs"),
        name=city.get("name"),
        include_private=bool(city.get("include_private", False)),
    )
    targets = doc.get("targets", "national")
    if not isinstance(targets, str):
        raise ScenarioError(f"{p}: 'targets' must be a target sheet id, got {targets!r}")
    try:
        load_target_sheet(targets)
    except GeoplanError as exc:
        raise ScenarioError(f"{p}: targets: {exc}") from exc
    units = doc.get("units")
    units_layer: Any = None
    units_col = None
    grid_m = 500.0
    if units is not None:
        if not isinstance(units, dict):
            raise ScenarioError(
                f"{p}: 'units' must be a mapping (layer:, name_column:) or (grid_m:)"
            )
        _check_keys(units, _UNIT_KEYS, f"{p}: units", "units key")
        for k, v in units.items():
            _check_type(k, v, f"{p}: units")
        if "layer" in units:
            lp = resolve_path(units["layer"], p)
            if not lp.exists():
                raise ScenarioError(f"{p}: units layer {units['layer']!r} not found")
            units_layer = lp
        units_col = units.get("name_column")
        grid_m = float(units.get("grid_m", 500.0))
    scn = Scenario(
        name,
        base=spec,
        targets=targets,
        units=units_layer,
        units_name_column=units_col,
        grid_m=grid_m,
        description=str(doc.get("description", "")),
    )
    scn.source = p
    changes = doc["changes"]
    if not isinstance(changes, list):
        raise ScenarioError(
            f"{p}: 'changes' must be a list of '- add: KIND' / '- remove: KIND' items"
        )
    for no, ch in enumerate(changes, start=1):
        _parse_change(scn, ch, f"{p}: change {no}", p)
    return scn


def _parse_change(scn: Scenario, ch: Any, where: str, path: Path) -> None:
    if not isinstance(ch, dict):
        raise ScenarioError(
            f"{where}: each change must be a mapping like {{add: parks, layer: FILE}}"
        )
    ops = [k for k in ("add", "remove") if k in ch]
    if len(ops) != 1:
        other = [k for k in ch if k not in ("add", "remove")]
        close = (
            difflib.get_close_matches(str(other[0]), ["add", "remove"], n=1, cutoff=0.5)
            if other and not ops
            else []
        )
        hint = f" (did you mean {close[0]!r} instead of {other[0]!r}?)" if close else ""
        raise ScenarioError(f"{where}: give exactly one of 'add: KIND' or 'remove: KIND'{hint}")
    op = ops[0]
    kind = ch[op]
    if op == "add":
        if kind not in ADD_KINDS:
            raise ScenarioError(_unknown("change kind", str(kind), list(ADD_KINDS), where))
        valid = _CHANGE_KEYS[("add", kind)]
        _check_keys({k: v for k, v in ch.items() if k != "add"}, valid, f"{where} (add {kind})")
        for k, v in ch.items():
            if k != "add":
                _check_type(k, v, where)
        if "layer" not in ch:
            raise ScenarioError(f"{where} (add {kind}): missing 'layer: FILE'")
        lp = resolve_path(ch["layer"], path)
        if not lp.exists():
            raise ScenarioError(
                f"{where} (add {kind}): layer file {ch['layer']!r} not found; paths are relative "
                f"to {path.parent} or {path.parent.parent}"
            )
        if ch.get("coord_system", "wgs84") not in ("wgs84", "gcj02", "bd09"):
            raise ScenarioError(
                _unknown("coord_system", ch["coord_system"], ["wgs84", "gcj02", "bd09"], where)
            )
        if kind == "facilities":
            if "category" not in ch:
                raise ScenarioError(f"{where} (add facilities): missing 'category:' (e.g. clinic)")
            cats = tx.categories()
            if ch["category"] not in cats:
                raise ScenarioError(
                    _unknown("facility category", ch["category"], sorted(cats), where)
                )
        params = {k: v for k, v in ch.items() if k not in ("add", "layer")}
        scn._add("add", kind, lp, **params)
    else:
        if kind not in REMOVE_KINDS:
            raise ScenarioError(_unknown("change kind", str(kind), list(REMOVE_KINDS), where))
        _check_keys(
            {k: v for k, v in ch.items() if k != "remove"}, _REMOVE_KEYS, f"{where} (remove {kind})"
        )
        for k, v in ch.items():
            if k != "remove":
                _check_type(k, v, where)
        given = [k for k in ("ids", "within", "all") if k in ch and ch[k] is not False]
        if len(given) != 1:
            raise ScenarioError(
                f"{where} (remove {kind}): give exactly one of ids:, within: or all: true"
            )
        within = ch.get("within")
        if isinstance(within, str):
            wp = resolve_path(within, path)
            if not wp.exists():
                raise ScenarioError(f"{where} (remove {kind}): within file {within!r} not found")
            within = wp
        if "ids" in ch and not all(isinstance(i, int) for i in ch["ids"]):
            raise ScenarioError(
                f"{where} (remove {kind}): ids must be a list of OSM ids (integers)"
            )
        scn.remove(
            kind,
            ids=ch.get("ids"),
            within=within,
            all=bool(ch.get("all", False)),
            category=ch.get("category"),
        )


def _load_py(p: Path) -> Scenario:
    spec = importlib.util.spec_from_file_location(f"geoplan_scenario_{p.stem}", p)
    if spec is None or spec.loader is None:
        raise ScenarioError(f"{p}: cannot import the script")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    scn = getattr(mod, "scenario", None)
    if isinstance(scn, Scenario):
        scn.source = scn.source or p
        return scn
    build = getattr(mod, "build", None)
    if not callable(build):
        raise ScenarioError(
            f"{p}: define `scenario = Scenario(...)` or `def build(city) -> Scenario`"
        )
    city_spec = getattr(mod, "CITY", {"osm": "demo"})
    cs = CitySpec(
        **{
            **city_spec,
            "osm": str(resolve_path(city_spec.get("osm", "demo"), p))
            if city_spec.get("osm", "demo") != "demo"
            else "demo",
        }
    )
    city = cs.load()
    scn = build(city)
    if not isinstance(scn, Scenario):
        raise ScenarioError(f"{p}: build(city) must return a Scenario, got {type(scn).__name__}")
    scn.base = city
    scn.source = scn.source or p
    if hasattr(mod, "TARGETS"):
        scn.targets = mod.TARGETS
    return scn


def run_scenario_file(
    path: str | Path,
    *,
    out: str | Path = ".",
    sheet: str | None = None,
    lang: str = "zh",
) -> tuple[ScenarioResult, dict[str, Path]]:
    """Load, run and write a scenario file (what ``geoplan run`` does)."""
    scn = load_scenario_file(path)
    city = scn.load_base()
    result = scn.run(city, sheet=sheet)
    files = result.write(out, lang=lang)
    return result, files
