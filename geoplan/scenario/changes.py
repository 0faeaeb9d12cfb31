"""The changes of a plan scenario and how they are applied to a city.

A :class:`Change` adds a plan layer or removes existing features; :func:`apply_changes` reads each
layer (any CRS, AMap / Baidu offsets checked against the city), adds it to the city's layers (new
roads and paths join the walk network), removes what a change names, and keeps a
:class:`ChangeLog` of what was added and removed. The baseline is never modified.
:class:`~geoplan.scenario.model.Scenario` holds the list and its public API.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, TypeAlias

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geoplan._errors import CRSError, ScenarioError, unknown_message
from geoplan.city import City, clip_layer
from geoplan.io.offset_check import gcj02_offset
from geoplan.io.plan_crs import Where, to_wgs84
from geoplan.io.plan_layers import PlanLayer, read_plan_layer
from geoplan.io.projection import WGS84
from geoplan.network.edit import add_lines
from geoplan.rules import taxonomy as tx
from geoplan.scenario.apply import ADDERS, concat

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


class Plan(Protocol):
    """What applying reads of a scenario (:class:`~geoplan.scenario.model.Scenario`)."""

    name: str
    changes: list[Change]
    source: Path | None
    layer_notes: list[str]
    reference: City | None

    def resolve(self, p: str | Path) -> Path:
        """A layer path resolved against the scenario file.

        Parameters
        ----------
        p : str or Path
            The path as the scenario gives it.

        Returns
        -------
        Path
            Absolute, or relative to the scenario file's folder.
        """
        ...


def where_of(scn: Plan) -> str:
    """The scenario, as a message names it.

    Parameters
    ----------
    scn : Plan
        The scenario.

    Returns
    -------
    str
        ``"<file>: "`` for a scenario read from a file, else ``"scenario '<name>': "``.
    """
    return f"{scn.source}: " if scn.source else f"scenario {scn.name!r}: "


def apply_changes(scn: Plan, city: City) -> tuple[City, ChangeLog]:
    """Apply a scenario's changes to ``city`` (not modified): the plan city and its log.

    Parameters
    ----------
    scn
        The scenario (its changes, name, source and the layer notes it collects).
    city
        The baseline city.

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
    scn.reference = city
    bnd = city.boundary_polygon
    bnd_wgs = gpd.GeoSeries([bnd], crs=city.crs).to_crs(WGS84).iloc[0]
    new_lines: list[tuple[BaseGeometry, str, float, int]] = []
    removed_road_ids: list[int] = []
    for no, ch in enumerate(scn.changes, start=1):
        where = f"{where_of(scn)}change {no} ({ch.op} {ch.kind})"
        if ch.op == "add":
            gdf = _read_layer(scn, ch, city.crs, bnd_wgs, where)
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
            mask = _remove_mask(scn, ch, gdf, city, where)
            log.removed[ch.kind] = concat(log.removed.get(ch.kind), gdf.loc[mask].assign(change=no))
            layers[ch.kind] = gdf.loc[~mask].reset_index(drop=True)
            if ch.kind == "roads":
                removed_road_ids += gdf.loc[mask, "osmid"].astype(np.int64).tolist()
    if removed_road_ids:
        net = net.select_edges(~np.isin(net.edge_osmid, removed_road_ids))
    for g, hw, snap, oid in new_lines:
        net = add_lines(net, [g], snap_m=snap, highway=hw, osmid=oid)
    plan = dataclasses.replace(
        city,
        name=f"{city.name} + {scn.name}",
        boundary=city.boundary.copy(),
        network=net,
        report=dataclasses.replace(city.report, notes=[*city.report.notes, *log.notes]),
        **{k: v.reset_index(drop=True) for k, v in layers.items()},
    )
    return plan, log


def _read_layer(
    scn: Plan, ch: Change, crs: pyproj.CRS, bnd_wgs: BaseGeometry, where: str
) -> gpd.GeoDataFrame:
    """A plan layer of an ``add`` change, read and checked, in the city's metric CRS ``crs``."""
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
        path = scn.resolve(layer)
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
            scn.layer_notes.append(str(w.message))
    else:
        raise ScenarioError(f"{where}: layer must be a file path or a GeoDataFrame")
    if ch.params.get("coord_system") is None and scn.reference is not None:
        _check_offset(scn, ch, gdf, where)
    out = gdf.to_crs(crs)
    if ch.kind == "bus_stops":
        pts = shapely.get_type_id(out.geometry.values) != 0
        if pts.any():
            geoms = out.geometry.values.copy()
            geoms[pts] = shapely.point_on_surface(geoms[pts])
            out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=crs))
    return out.reset_index(drop=True)


def _check_offset(scn: Plan, ch: Change, gdf: gpd.GeoDataFrame, where: str) -> None:
    """Refuse a layer that matches the city's OSM features only once read as GCJ-02."""
    city = scn.reference
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


def _remove_mask(
    scn: Plan, ch: Change, gdf: gpd.GeoDataFrame, city: City, where: str
) -> NDArray[np.bool_]:
    """Which features of ``gdf`` a ``remove`` change takes away (an error if none)."""
    prm = ch.params
    cat = prm.get("category")
    if cat and cat not in tx.categories():
        raise ScenarioError(unknown_message("category", str(cat), sorted(tx.categories()), where))
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
        poly = _within_polygon(scn, prm["within"], city, where)
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


def _within_polygon(scn: Plan, within: Any, city: City, where: str) -> BaseGeometry:
    """The polygon (city CRS) of a ``within`` given as a bbox, a polygon or a layer."""
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
        g = read_plan_layer(scn.resolve(within), geometry_types=("Polygon",)).gdf.geometry
    return shapely.union_all(g.to_crs(city.crs).values)
