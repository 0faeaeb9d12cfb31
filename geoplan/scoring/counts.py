"""Count targets: features of a kind in the study area, and per unit (每个街道…).

``count_existing`` counts what the data already holds (洛阳 "中心城区游园数量达到330处");
``count_per_unit`` gives the share of units (街道, 社区) holding at least ``min_count`` features of
a kind (中原区 "每个街道办事处要按市定要求设置社区卫生服务中心"). Both read the city's layers in
its metric CRS; areas in m².
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geoplan.city import City
from geoplan.indicators.coverage import Measure, measure_row
from geoplan.names import Status
from geoplan.rules import taxonomy as tx
from geoplan.scoring.sheet_model import Target

#: kinds that are public green rather than a facility category
GREEN_KINDS = ("park", "green", "micro_park", "pocket_park")


def count_measure(t: Target) -> str:
    """Measure id of a count target (one per target: its kind and bounds are its own).

    Parameters
    ----------
    t
        A count target.

    Returns
    -------
    str
    """
    return f"{t.indicator}:{t.id}"


def _features(city: City, kind: str, lo: float, hi: float) -> NDArray[np.object_]:
    """Geometries of the features of ``kind`` (area bounds apply to green)."""
    if kind in GREEN_KINDS:
        p = city.parks
        area = p["area_m2"].to_numpy(dtype=float)
        m = (area >= lo) & (area < hi)
        if kind == "park":
            m &= (p["green_kind"] == "park").to_numpy()
        return np.asarray(p.geometry.values[m], dtype=object)
    if kind == "bus_stop":
        return np.asarray(city.bus_stops.geometry.values, dtype=object)
    f = city.facilities
    return np.asarray(f.geometry.values[(f["category"] == kind).to_numpy()], dtype=object)


def _in_area(geoms: NDArray[np.object_], area: BaseGeometry) -> NDArray[np.bool_]:
    if not len(geoms):
        return np.zeros(0, dtype=bool)
    return np.asarray(shapely.intersects(area, shapely.point_on_surface(geoms)), dtype=bool)


def kind_label(kind: str) -> str:
    """Chinese label of a counted kind (a facility category, a green kind, bus stops, roads).

    Parameters
    ----------
    kind
        A category or kind.

    Returns
    -------
    str
    """
    own = {"park": "公园", "green": "公共绿地", "micro_park": "微公园", "pocket_park": "口袋公园"}
    own |= {"bus_stop": "公交站点", "road": "道路"}
    if kind in own:
        return own[kind]
    cat = tx.categories().get(kind)
    return cat.label_zh if cat else kind


def named_area(name: str, *layers: gpd.GeoDataFrame | None) -> tuple[BaseGeometry | None, str]:
    """The polygon of a named part of the study area (老城区, 振中街道), and where it came from.

    Looked up in each layer in turn (``--areas``, then ``--units``; a units grid has no names):
    the units whose name equals ``name``, else those whose name contains it or is contained in
    it (振中街道 = 振中街道办事处). ``(None, "")`` when no layer names it.

    Parameters
    ----------
    name
        The name a target gives (``area:``).
    *layers
        Layers with ``unit`` names (metric CRS), searched in order.

    Returns
    -------
    tuple
        ``(polygon or None, the names matched)``.
    """
    for layer in layers:
        if layer is None or layer.empty or layer.attrs.get("grid_m"):
            continue
        names = layer["unit"].astype(str)
        hit = (names == name).to_numpy()
        if not hit.any():
            hit = np.array([name in n or (len(n) >= 2 and n in name) for n in names], dtype=bool)
        if hit.any():
            geom = shapely.union_all(np.asarray(layer.geometry.values[hit], dtype=object))
            return geom, ", ".join(names[hit])
    return None, ""


def needs_area_note(name: str) -> str:
    """The no-data note of a target restricted to a named area that was not given.

    Parameters
    ----------
    name
        The area's name.

    Returns
    -------
    str
    """
    return (
        f"no data: needs the {name} boundary (a polygon named {name} in --areas or --units); "
        "not scored on the whole study area"
    )


def _lower_bound(t: Target, n: int, kind: str) -> tuple[float | None, str]:
    """A count of mapped features as the lower bound it is: the value and its note.

    Only a verdict that more features could not change is given (≥ reached; ≤ or between
    exceeded), else "no data" with the count in the note.
    """
    v = t.evaluate(float(n))
    sure = (t.op == ">=" and v.status == Status.PASS) or (
        t.op in ("<=", "between") and v.status == Status.FAIL and float(n) > _upper(t)
    )
    where = f"{kind_label(kind)} mapped in the {'area ' + t.area if t.area else 'study area'}"
    if sure or t.op is None:
        return float(n), f"{n} {where} (a lower bound: the data may miss some)"
    return None, (
        f"no data: at least {n} {where}; the data may miss some, so whether the target is "
        "reached cannot be told — count them from the register or an AMap / Baidu export "
        "(--facilities)"
    )


def _upper(t: Target) -> float:
    return float(t.value[1]) if isinstance(t.value, tuple) else float(cast(float, t.value))


def count_rows(
    targets: Iterable[Target],
    city: City,
    area: BaseGeometry,
    units: gpd.GeoDataFrame | None,
    areas: gpd.GeoDataFrame | None = None,
    residents: float | None = None,
) -> list[dict[str, Any]]:
    """Measure rows of the count targets of a sheet (counts, per unit, area per resident).

    Parameters
    ----------
    targets
        The sheet's checkable targets (others are skipped).
    city
        Layers to count, metric CRS.
    area
        Where to count (the study area, or the built-up area when given).
    units
        Polygons of the units (街道 …) for ``count_per_unit``, the city's CRS; ``None`` = the
        per-unit targets are "no data"; a units grid (``attrs["grid_m"]``) too: a target set
        per 街道 is not measured on squares.
    areas
        Named parts of the study area (``unit`` = name), for targets with an ``area``.
    residents
        Residents of the study area, for ``area_per_resident`` (``None``: no population).

    Returns
    -------
    list of dict
        One summary row per target (:func:`geoplan.indicators.coverage.measure_row`).
    """
    rows = []
    for t in targets:
        if t.indicator == "units_complete":
            v, note, bound = _complete_units(t, city, units, areas)
            m = Measure(t.indicator, count_measure(t), t.label_zh, t.label_en)
            rows.append(measure_row(m, "count", "units", v, note=note, bound=bound))
            continue
        if t.indicator == "area_per_resident":
            v, note = _area_per_resident(t, city, area, residents)
            m = Measure(t.indicator, count_measure(t), t.label_zh, t.label_en, unit="m2/person")
            rows.append(measure_row(m, "area", "residents", v, note=note))
            continue
        if t.indicator not in ("count_existing", "count_per_unit"):
            continue
        kind = str(dict(t.params)["kind"])
        geoms = _features(
            city, kind, t.number("min_area_m2", -np.inf), t.number("max_area_m2", np.inf)
        )
        where = area
        if t.area:
            where, _ = named_area(t.area, areas, units)
        if t.indicator == "count_existing":
            m = Measure(t.indicator, count_measure(t), t.label_zh, t.label_en, unit="count")
            if where is None:
                v, note = None, needs_area_note(str(t.area))
            else:
                v, note = _lower_bound(t, int(_in_area(geoms, where).sum()), kind)
            rows.append(measure_row(m, "count", "count", v, note=note))
            continue
        v, note = _per_unit(t, kind, geoms, units, areas)
        m = Measure(t.indicator, count_measure(t), t.label_zh, t.label_en)
        rows.append(measure_row(m, "count", "units", v, note=note))
    return rows


def _area_per_resident(
    t: Target, city: City, area: BaseGeometry, residents: float | None
) -> tuple[float | None, str]:
    """Area (m²) of the mapped features of a kind in the study area per resident.

    Overlapping features count once (their union); a feature mapped as a point has no area, so
    the figure is a lower bound: a verdict only where more area could not change it.
    """
    kind = str(dict(t.params)["kind"])
    if not residents:
        return None, "no data: needs population (--population)"
    geoms = _features(city, kind, -np.inf, np.inf)
    if not len(geoms):
        return None, f"no data: no {kind_label(kind)} in the data at all"
    polys = geoms[shapely.area(geoms) > 0]
    points = int(len(geoms) - len(polys))
    inside = shapely.intersection(shapely.union_all(polys), area).area if len(polys) else 0.0
    v = inside / residents
    what = f"{inside:,.0f} m² of {kind_label(kind)} over {residents:,.0f} residents"
    if points:
        what += f"; {points} mapped as points (no area) not counted"
    verdict = t.evaluate(v)
    if t.op == ">=" and verdict.status != Status.PASS:
        return None, f"no data: at least {v:.2f} m²/person ({what}): a lower bound below the target"
    return v, f"{what} (a lower bound)"


def _unit_problem(
    t: Target, units: gpd.GeoDataFrame | None, areas: gpd.GeoDataFrame | None
) -> tuple[gpd.GeoDataFrame | None, str]:
    """The units a per-unit target is measured on, or why there are none (the no-data note)."""
    if units is None or units.empty:
        return None, "no data: needs the units (--units 街道 / 社区 polygons)"
    if units.attrs.get("grid_m"):
        return None, (
            f"no data: a target per 街道 / 社区 needs their polygons (--units), not grid cells "
            f"(--units-grid {units.attrs['grid_m']:g})"
        )
    if t.area:
        where, _ = named_area(t.area, areas, units)
        if where is None:
            return None, needs_area_note(t.area)
        shapely.prepare(where)
        inside = shapely.intersects(where, shapely.point_on_surface(units.geometry.values))
        units = units.loc[np.asarray(inside, dtype=bool)]
        if units.empty:
            return None, needs_area_note(t.area)
    return units, ""


def _holds(city: City, units: gpd.GeoDataFrame, categories: Iterable[str]) -> NDArray[np.bool_]:
    """Per unit: whether a feature of any of the categories lies in it (point on surface)."""
    held = np.zeros(len(units), dtype=bool)
    for cat in categories:
        geoms = _features(city, cat, -np.inf, np.inf)
        if not len(geoms):
            continue
        pts = shapely.point_on_surface(geoms)
        i, _ = shapely.STRtree(pts).query(units.geometry.values, predicate="intersects")
        held[np.unique(i)] = True
    return held


def _complete_units(
    t: Target,
    city: City,
    units: gpd.GeoDataFrame | None,
    areas: gpd.GeoDataFrame | None,
) -> tuple[float | None, str, float | None]:
    """Share of the units holding every item of a checklist (or the target's one item).

    An item absent from the data altogether makes the share "no data" with an upper bound:
    the share of units holding every item the data has.
    """
    from geoplan.rules.checklists import checklists

    cl = checklists()[str(dict(t.params)["checklist"])]
    items = cl.items
    item = dict(t.params).get("item")
    if item is not None:
        items = tuple(i for i in items if i.key == item)
        if not items:
            keys = ", ".join(i.key for i in cl.items)
            return None, f"no data: {cl.key} has no item {item!r} (items: {keys})", None
    chosen, why = _unit_problem(t, units, areas)
    if chosen is None:
        return None, why, None
    held = np.column_stack([_holds(city, chosen, i.categories) for i in items])
    present: NDArray[np.bool_] = np.asarray(held.any(axis=0), dtype=bool)
    absent = [i.label_zh for i, p in zip(items, present.tolist(), strict=True) if not p]
    if len(absent) == len(items):
        return None, f"no data: no {'、'.join(absent)} in the data at all", None
    lacking = (~held).sum(axis=1)
    ok = int((lacking == 0).sum())
    ok_present = int(((~held[:, present]).sum(axis=1) == 0).sum())
    note = f"{ok} of {len(chosen)} units hold {'every item' if item is None else items[0].label_zh}"
    names = chosen["unit"].astype(str).to_numpy()
    order = np.argsort(-lacking, kind="stable")
    short = [
        f"{names[k]} 缺 "
        + "、".join(i.label_zh for i, h in zip(items, held[k], strict=True) if not h)
        for k in order[:10]
        if lacking[k]
    ]
    if short:
        more = int((lacking > 0).sum()) - len(short)
        note += "; " + "; ".join(short) + (f" …（另{more}个）" if more > 0 else "")
    if item is None and cl.not_mapped:
        note += f"; not checked (a map cannot show them): {'、'.join(cl.not_mapped)}"
    if absent:
        note = (
            f"no data (not in the data at all: {'、'.join(absent)}; add an AMap / Baidu export "
            f"with --facilities): at most {ok_present} of {len(chosen)} units complete; " + note
        )
        return None, note, ok_present / len(chosen)
    return ok / len(chosen), note, None


def _per_unit(
    t: Target,
    kind: str,
    geoms: NDArray[np.object_],
    units: gpd.GeoDataFrame | None,
    areas: gpd.GeoDataFrame | None,
) -> tuple[float | None, str]:
    """Share of the units holding at least ``min_count`` of the kind, and the units short."""
    need = int(t.number("min_count", 1))
    chosen, why = _unit_problem(t, units, areas)
    if chosen is None:
        return None, why
    if not len(geoms):
        return None, f"no data: no {kind_label(kind)} in the data at all"
    pts = shapely.point_on_surface(geoms)
    per = np.zeros(len(chosen), dtype=np.int64)
    i, _ = shapely.STRtree(pts).query(chosen.geometry.values, predicate="intersects")
    np.add.at(per, i, 1)
    ok = int((per >= need).sum())
    short = chosen["unit"].astype(str).to_numpy()[per < need]
    note = f"{ok} of {len(chosen)} units hold ≥ {need} {kind_label(kind)}"
    if short.size:
        listed = "、".join(short[:20]) + (f" …（共{short.size}个）" if short.size > 20 else "")
        note += f"; short: {listed}"
    return ok / len(chosen), note
