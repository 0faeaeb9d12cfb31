"""Plan scenarios: the city as it is (baseline) plus the plan's layers, checked side by side.

A :class:`Scenario` is a list of changes to a baseline :class:`~geoplan.City`: add parks,
facilities, bus stops, roads / paths (they join the walk network, :mod:`geoplan.network.edit`,
and count in 路网密度 with their grade), residential parcels (with residents where known); remove
existing features by OSM id, inside a polygon, or all of a kind. :meth:`Scenario.apply` returns a
new City (the baseline is never modified); :meth:`Scenario.run` checks baseline and plan against a
target sheet and compares them (:class:`ScenarioResult`): scorecards side by side with deltas,
``count_added`` targets from the features added, per-home "newly covered" flags, a table per unit
(街道 / 社区 polygons or a grid), a change map. :class:`ScenarioSession` keeps the baseline and an
:class:`~geoplan.scoring.check.AccessCache` so that editing one layer recomputes only what it
changed.

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
>>> result = run_scenario(s, geoplan.load_city("demo"), sheet="xinxiang-gxq-2019")  # doctest: +SKIP
>>> result.scorecard[["target_id", "measured_baseline", "measured_plan"]]  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeAlias

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geoplan._errors import CRSError, ScenarioError, unknown_message
from geoplan.city import City, Study, clip_layer
from geoplan.io.offset_check import gcj02_offset
from geoplan.io.plan_crs import Where, to_wgs84
from geoplan.io.plan_layers import PlanLayer, read_plan_layer
from geoplan.io.projection import WGS84
from geoplan.network.edit import add_lines
from geoplan.rules import taxonomy as tx
from geoplan.scenario.apply import ADDERS, concat
from geoplan.scoring.targets import TargetSheet

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


#: coordinate systems a plan layer may be in
COORD_SYSTEMS: tuple[str, ...] = ("wgs84", "gcj02", "bd09")
#: numeric scenario parameters, declared in the registry's data file (``_scenario`` group)
PARAM_NAMES: tuple[str, ...] = ("snap_m", "grid_m")


def check_range(key: str, value: Any, where: str) -> float:
    """A numeric scenario parameter as float, or a one-line error with its range and unit.

    Parameters
    ----------
    key
        A parameter of the ``_scenario`` group (``snap_m``, ``grid_m``).
    value
        The value given.
    where
        The file or call, for the message.

    Returns
    -------
    float
    """
    from geoplan.indicators.registry import group_param

    p = group_param("scenario", key)
    what = p.source.removeprefix("geoplan: ")
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise ScenarioError(f"{where}: {key} must be a number in {p.unit} ({what}), got {value!r}")
    if not p.minimum <= float(value) <= p.maximum:
        raise ScenarioError(
            f"{where}: {key} = {value:g} {p.unit} is out of range [{p.minimum:g}, "
            f"{p.maximum:g}] {p.unit} ({what})"
        )
    return float(value)


#: the city layer an added layer of each kind is compared with (undeclared GCJ-02 check)
_REFERENCE_LAYER = {
    "parks": "parks",
    "bus_stops": "bus_stops",
    "roads": "roads",
    "paths": "roads",
    "facilities": "facilities",
    "residential": "residential",
}

#: what a scenario can remove (layers of :class:`~geoplan.City`)
REMOVE_KINDS = ("parks", "facilities", "bus_stops", "roads", "residential", "buildings")


_ID_BASE = 1_000_000  # plan features get osmid -(change_no * _ID_BASE + i + 1)


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

    def inside(self) -> ChangeLog:
        """The log with only the added features that lie in the study area.

        Returns
        -------
        ChangeLog
        """
        added = {
            k: g.loc[g["in_study_area"]] if "in_study_area" in g.columns else g
            for k, g in self.added.items()
        }
        return dataclasses.replace(self, added=added)

    def counts(self) -> dict[str, int]:
        """Number of features added and removed per kind (``added_parks``, ``removed_…``).

        Returns
        -------
        dict of str to int
        """
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
        The baseline: a loaded :class:`~geoplan.City`, a :class:`~geoplan.city.Study`, or a
        mapping of its fields. Optional when the city is passed to :meth:`apply` / :meth:`run`.
    targets
        Target sheet id (``"zhengzhou-zhongyuan-2019"`` …) used by :meth:`run` by default.
    units
        Units for the per-unit table: a polygon layer (街道 / 社区, any format
        :func:`~geoplan.io.plan_layers.read_plan_layer` reads) or ``None`` for a square grid of
        ``grid_m`` metres.
    units_name_column
        Name column of ``units``.
    grid_m
        Side (m) of the square units when no ``units`` are given.
    description
        Free text (what the plan is), kept with the outputs.
    """

    def __init__(
        self,
        name: str,
        *,
        base: City | Study | Mapping[str, Any] | None = None,
        targets: str | TargetSheet = "national",
        units: LayerLike | None = None,
        units_name_column: str | None = None,
        grid_m: float = 500.0,
        description: str = "",
    ) -> None:
        self.name = name
        self.base = Study(**base) if isinstance(base, Mapping) else base
        self.targets = targets
        self.units = units
        self.units_name_column = units_name_column
        self.grid_m = check_range("grid_m", grid_m, f"scenario {name!r}")
        self.description = description
        self.changes: list[Change] = []
        self.source: Path | None = None
        self.layer_notes: list[str] = []
        #: the city a change's layer is compared with for an undeclared GCJ-02 offset
        self.reference: City | None = None

    def __repr__(self) -> str:
        """Name, targets and changes, one line.

        Returns
        -------
        str
        """
        return f"Scenario({self.name!r}, {len(self.changes)} changes)"

    # ---- building ---------------------------------------------------------------------------

    def _add(self, op: Literal["add", "remove"], kind: str, layer: Any, **params: Any) -> Scenario:
        where = f"scenario {self.name!r}, change {len(self.changes) + 1} ({op} {kind})"
        cs = params.get("coord_system")
        if cs is not None and cs not in COORD_SYSTEMS:
            low = str(cs).lower().replace("-", "").replace("_", "")
            hint = f"did you mean {low!r}? " if low in COORD_SYSTEMS else ""
            raise ScenarioError(
                f"{where}: unknown coord_system {cs!r}; {hint}valid: {', '.join(COORD_SYSTEMS)}"
            )
        for key in PARAM_NAMES:
            if params.get(key) is not None:
                params[key] = check_range(key, params[key], where)
        self.changes.append(Change(op, kind, layer, params))
        return self

    def add_parks(
        self,
        layer: LayerLike,
        *,
        green_kind: Literal["park", "green"] = "park",
        name_column: str | None = None,
        coord_system: CoordSystem | None = None,
        crs: str | int | None = None,
    ) -> Scenario:
        """Add public green polygons.

        ``green_kind`` "park" (公园) or "green" (other 绿地). A ``green_kind`` column in the layer
        wins per feature. ``area_m2`` is computed in the city's metric CRS.

        Parameters
        ----------
        layer
            A vector file (any CRS and coordinate system), ``path::layer``, a GeoDataFrame or a
            :class:`~geoplan.io.plan_layers.PlanLayer`.
        green_kind
            ``park`` or ``green``.
        name_column
            Column holding the names.
        coord_system
            ``wgs84``, ``gcj02`` (AMap) or ``bd09`` (Baidu) for lon / lat layers; default: checked.
        crs
            The layer's CRS when its file does not say it (a CAD export).

        Returns
        -------
        Scenario
            This scenario (calls chain).
        """
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
        coord_system: CoordSystem | None = None,
        crs: str | int | None = None,
    ) -> Scenario:
        """Add facilities of a life-circle ``category`` (``clinic``, ``primary_school`` …).

        Parameters
        ----------
        layer
            A vector file (any CRS and coordinate system), ``path::layer``, a GeoDataFrame or a
            :class:`~geoplan.io.plan_layers.PlanLayer`.
        category
            A facility category of the taxonomy.
        name_column
            Column holding the names.
        coord_system
            ``wgs84``, ``gcj02`` (AMap) or ``bd09`` (Baidu) for lon / lat layers; default: checked.
        crs
            The layer's CRS when its file does not say it (a CAD export).

        Returns
        -------
        Scenario
            This scenario (calls chain).
        """
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
        coord_system: CoordSystem | None = None,
        crs: str | int | None = None,
    ) -> Scenario:
        """Add bus stops (points; polygons become their representative point).

        Parameters
        ----------
        layer
            A vector file (any CRS and coordinate system), ``path::layer``, a GeoDataFrame or a
            :class:`~geoplan.io.plan_layers.PlanLayer`.
        name_column
            Column holding the names.
        coord_system
            ``wgs84``, ``gcj02`` (AMap) or ``bd09`` (Baidu) for lon / lat layers; default: checked.
        crs
            The layer's CRS when its file does not say it (a CAD export).

        Returns
        -------
        Scenario
            This scenario (calls chain).
        """
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
        coord_system: CoordSystem | None = None,
        crs: str | int | None = None,
    ) -> Scenario:
        """Add roads (OSM ``highway`` value → grade, ``road_grades.yaml``).

        They count in road density with that grade and, when walkable, join the walk network
        (vertices within ``snap_m`` metres of it snap; crossings split edges). A ``highway`` column
        wins.

        Parameters
        ----------
        layer
            A vector file (any CRS and coordinate system), ``path::layer``, a GeoDataFrame or a
            :class:`~geoplan.io.plan_layers.PlanLayer`.
        highway
            OSM ``highway`` value of the new roads (their grade).
        snap_m
            Vertices this close (m) to the network join it.
        name_column
            Column holding the names (a road drawn in pieces with one name counts once).
        coord_system
            ``wgs84``, ``gcj02`` (AMap) or ``bd09`` (Baidu) for lon / lat layers; default: checked.
        crs
            The layer's CRS when its file does not say it (a CAD export).

        Returns
        -------
        Scenario
            This scenario (calls chain).
        """
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
        coord_system: CoordSystem | None = None,
        crs: str | int | None = None,
    ) -> Scenario:
        """Add walking paths: they join the walk network but are not roads (no density).

        Parameters
        ----------
        layer
            A vector file (any CRS and coordinate system), ``path::layer``, a GeoDataFrame or a
            :class:`~geoplan.io.plan_layers.PlanLayer`.
        highway
            OSM ``highway`` value of the paths.
        snap_m
            Vertices this close (m) to the network join it.
        coord_system
            ``wgs84``, ``gcj02`` (AMap) or ``bd09`` (Baidu) for lon / lat layers; default: checked.
        crs
            The layer's CRS when its file does not say it (a CAD export).

        Returns
        -------
        Scenario
            This scenario (calls chain).
        """
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
        coord_system: CoordSystem | None = None,
        crs: str | int | None = None,
    ) -> Scenario:
        """Add residential parcels (居住用地).

        Homes are sampled in them. With ``residents_column`` their residents are shared equally
        among their homes.

        Parameters
        ----------
        layer
            A vector file (any CRS and coordinate system), ``path::layer``, a GeoDataFrame or a
            :class:`~geoplan.io.plan_layers.PlanLayer`.
        residents_column
            Column holding each parcel's residents.
        name_column
            Column holding the names.
        coord_system
            ``wgs84``, ``gcj02`` (AMap) or ``bd09`` (Baidu) for lon / lat layers; default: checked.
        crs
            The layer's CRS when its file does not say it (a CAD export).

        Returns
        -------
        Scenario
            This scenario (calls chain).
        """
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
        """Close / remove existing features of ``kind`` (one of :data:`REMOVE_KINDS`).

        By OSM id (``ids``), those whose representative point lies inside ``within`` (a polygon
        layer, a WGS84 shapely polygon or a lon/lat bbox), or ``all``. ``category`` narrows
        facilities. Removed roads also leave the walk network (edges of those ways).

        Parameters
        ----------
        kind
            One of :data:`REMOVE_KINDS`.
        ids
            OSM ids.
        within
            A polygon layer, a WGS84 polygon or a lon / lat bbox.
        all
            Every feature of ``kind``.
        category
            Narrows facilities to one category.

        Returns
        -------
        Scenario
            This scenario (calls chain).
        """
        if kind not in REMOVE_KINDS:
            raise ScenarioError(
                unknown_message("remove kind", kind, REMOVE_KINDS, "in Scenario.remove")
            )
        if sum(x is not None and x is not False for x in (ids, within, all or None)) != 1:
            raise ScenarioError(
                f"Scenario.remove({kind!r}): give exactly one of ids=, within= or all=True"
            )
        return self._add("remove", kind, None, ids=ids, within=within, all=all, category=category)

    # ---- applying ---------------------------------------------------------------------------

    def apply(self, city: City) -> City:
        """A new City with the changes applied; ``city`` is not modified.

        Parameters
        ----------
        city
            The baseline city (not modified).

        Returns
        -------
        City
            The plan city.
        """
        return self.apply_with_log(city)[0]

    def apply_with_log(self, city: City) -> tuple[City, ChangeLog]:
        """:meth:`apply`, and what was added and removed (:class:`ChangeLog`).

        Parameters
        ----------
        city
            The baseline city (not modified).

        Returns
        -------
        tuple
            ``(plan city, ChangeLog)``.
        """
        layers = {
            k: getattr(city, k).copy()
            for k in ("roads", "facilities", "parks", "bus_stops", "residential", "buildings")
        }
        net = city.network
        log = ChangeLog()
        self.reference = city
        bnd = city.boundary_polygon
        bnd_wgs = gpd.GeoSeries([bnd], crs=city.crs).to_crs(WGS84).iloc[0]
        new_lines: list[tuple[BaseGeometry, str, float, int]] = []
        removed_road_ids: list[int] = []
        for no, ch in enumerate(self.changes, start=1):
            where = f"{self._where()}change {no} ({ch.op} {ch.kind})"
            if ch.op == "add":
                gdf = self._read(ch, city.crs, bnd_wgs, where)
                ids = -(no * _ID_BASE + np.arange(len(gdf), dtype=np.int64) + 1)
                added = ADDERS[ch.kind](gdf, ids, ch.params, city, where)
                added["change"] = no
                added["in_study_area"] = shapely.intersects(added.geometry.values, bnd)
                n_out = int((~added["in_study_area"]).sum())
                if n_out:
                    log.notes.append(
                        f"{where}: {n_out} of {len(added)} features lie outside the study area; "
                        "they are not counted as added"
                    )
                layer_name = "roads" if ch.kind == "paths" else ch.kind
                if ch.kind != "paths":
                    cols = list(layers[layer_name].columns)
                    clipped = clip_layer(added, bnd)
                    layers[layer_name] = concat(layers[layer_name], clipped[cols])
                log.added[ch.kind] = concat(log.added.get(ch.kind), added)
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
                log.removed[ch.kind] = concat(
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
            cs: CoordSystem = ch.params.get("coord_system") or "wgs84"
            try:
                gdf = to_wgs84(layer, layer.crs, cs, Where(Path(where)))
            except CRSError as exc:
                raise ScenarioError(str(exc)) from exc
        elif isinstance(layer, str | Path):
            path = self.resolve(layer)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                gdf = read_plan_layer(
                    path,
                    crs=ch.params.get("crs"),
                    coord_system=ch.params.get("coord_system") or "wgs84",
                    kind=ch.kind,
                    study_area=bnd_wgs,
                    geometry_types=ADD_KINDS[ch.kind],
                ).gdf
            for w in caught:
                self.layer_notes.append(str(w.message))
        else:
            raise ScenarioError(f"{where}: layer must be a file path or a GeoDataFrame")
        if ch.params.get("coord_system") is None and self.reference is not None:
            self._check_offset(ch, gdf, where)
        out = gdf.to_crs(crs)
        if ch.kind == "bus_stops":
            pts = shapely.get_type_id(out.geometry.values) != 0
            if pts.any():
                geoms = out.geometry.values.copy()
                geoms[pts] = shapely.point_on_surface(geoms[pts])
                out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=crs))
        return out.reset_index(drop=True)

    def _check_offset(self, ch: Change, gdf: gpd.GeoDataFrame, where: str) -> None:
        """Refuse a layer that matches the city's OSM features only once read as GCJ-02."""
        city = self.reference
        assert city is not None
        ref_layer = _REFERENCE_LAYER.get(ch.kind)
        if ref_layer is None:
            return
        ref = getattr(city, ref_layer)
        v = gcj02_offset(gdf.to_crs(WGS84), ref.to_crs(WGS84), city.crs)
        if v is not None and v.looks_gcj02:
            raise ScenarioError(
                f"{where}: the layer looks like GCJ-02 (AMap / Tencent coordinates): "
                f"{100 * v.from_gcj02:.0f} % of its {v.n} features match OSM {ref_layer} once "
                f"converted from GCJ-02, {100 * v.as_given:.0f} % as given (offset "
                f"{v.shift_m:.0f} m); add coord_system: gcj02 (or coord_system: wgs84 if it "
                "really is WGS84)"
            )

    def resolve(self, p: str | Path) -> Path:
        """A layer path resolved against the scenario file (see :func:`resolve_path`).

        Parameters
        ----------
        p
            A path as the scenario gives it.

        Returns
        -------
        Path
        """
        return resolve_path(p, self.source)

    def _remove_mask(
        self, ch: Change, gdf: gpd.GeoDataFrame, city: City, where: str
    ) -> NDArray[np.bool_]:
        prm = ch.params
        cat = prm.get("category")
        if cat and cat not in tx.categories():
            raise ScenarioError(
                unknown_message("category", str(cat), sorted(tx.categories()), where)
            )
        if prm.get("all"):
            mask = np.ones(len(gdf), dtype=bool)
        elif prm.get("ids") is not None:
            ids = [int(i) for i in prm["ids"]]
            mask = gdf["osmid"].isin(ids).to_numpy()
            missing = sorted(set(ids) - set(gdf["osmid"].astype(np.int64)))
            if missing:
                shown = ", ".join(map(str, missing[:5])) + (" …" if len(missing) > 5 else "")
                raise ScenarioError(
                    f"{where}: no {ch.kind} in the study area has OSM id {shown}; give the ids of "
                    f"existing {ch.kind} (the number of way/123 or node/123)"
                )
        else:
            poly = self._within_polygon(prm["within"], city, where)
            rep = shapely.point_on_surface(gdf.geometry.values)
            shapely.prepare(poly)
            mask = shapely.contains(poly, rep) if len(gdf) else np.zeros(0, dtype=bool)
        if cat and "category" in gdf.columns:
            mask &= (gdf["category"] == cat).to_numpy()
        if not prm.get("all") and not np.any(mask):
            what = f"{ch.kind} of category {cat}" if cat else str(ch.kind)
            raise ScenarioError(
                f"{where}: removes nothing: no {what} matches; the plan would equal the baseline"
            )
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
            g = read_plan_layer(self.resolve(within), geometry_types=("Polygon",)).gdf.geometry
        return shapely.union_all(g.to_crs(city.crs).values)

    # ---- running ----------------------------------------------------------------------------

    def load_base(self) -> City:
        """The baseline city (loads a :class:`~geoplan.city.Study`).

        Returns
        -------
        City
        """
        if isinstance(self.base, City):
            return self.base
        if isinstance(self.base, Study):
            return self.base.load(progress=False)
        raise ScenarioError(f"{self._where()}no base city: pass base= or a City to run()")


def resolve_path(p: str | Path, source: Path | None) -> Path:
    """A layer path.

    Absolute; else relative to the scenario file's folder, its parent (the project), or the working
    directory — the first that exists.

    Parameters
    ----------
    p
        A path as given.
    source
        The scenario file it is relative to.

    Returns
    -------
    Path
    """
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
