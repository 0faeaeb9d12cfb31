"""Population on homes: census counts spread over homes, raster pixels, cells as homes.

:func:`check_homes` gives the homes a check measures from (the city's, population cells, or the
city's carrying census or raster counts). Census counts per polygon (街道 / 社区, 七普) are
distributed dasymetrically onto homes (:func:`distribute_census`):

Each polygon's residents (the share of its area inside the study area) go to the homes inside
it, following where people live:

1. first by residential land: the residential parcels with mapped buildings get the share of the
   polygon's residential land they hold, the parcels without buildings (land samples) the rest;
2. then, within the parcels with buildings, by floor area (footprint × levels); within the land
   samples, by the land each stands for. Buildings outside every parcel (no land) share the
   building part by floor area, and take all of it only where the polygon has no residential land;
3. no home gets more than :data:`MAX_HOME_SHARE` of a polygon's residents when it holds enough
   homes for that bound (the excess goes to the others by their weights).

So one mapped house on a parcel beside a large unbuilt residential area gets the share of the land
its parcel holds, not every resident of the 街道 (before, floor area decided whenever any building
was mapped). A polygon with no home inside keeps its residents unassigned and is reported; homes
outside every polygon get 0. Totals are kept: input, inside the study area, assigned; the notes give
the concentration (share of residents on the top 1 % of homes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geoplan._errors import LayerError
from geoplan.city.homes import homes_from_city, homes_from_population
from geoplan.city.model import City
from geoplan.io.population import residents_of

#: polygons holding on average at least this many homes are census units, not cells (auto mode)
CENSUS_MIN_HOMES = 5.0
#: the largest share of one census polygon's residents a single home may get (when it has at
#: least 1 / MAX_HOME_SHARE homes)
MAX_HOME_SHARE = 0.05


def looks_like_census(polygons: gpd.GeoDataFrame, homes: gpd.GeoDataFrame) -> bool:
    """Whether population polygons are census units (several homes each) rather than cells.

    Parameters
    ----------
    polygons
        The population layer, in the homes' metric CRS.
    homes
        The city's homes.

    Returns
    -------
    bool
        True when they are polygons holding on average :data:`CENSUS_MIN_HOMES` homes or more.
    """
    if len(polygons) == 0 or not shapely.get_type_id(polygons.geometry.values).min() >= 3:
        return False
    i, _ = shapely.STRtree(polygons.geometry.values).query(
        homes.geometry.values, predicate="within"
    )
    return bool(np.unique(i).size / len(polygons) >= CENSUS_MIN_HOMES)


def distribute_census(
    homes: gpd.GeoDataFrame,
    polygons: gpd.GeoDataFrame,
    *,
    column: str,
    boundary: BaseGeometry | None = None,
    nested_check: bool = True,
) -> gpd.GeoDataFrame:
    """Homes with ``residents`` from census polygons (see the module docstring).

    Parameters
    ----------
    homes
        Homes of the city (:func:`geoplan.city.homes.homes_from_city`), metric CRS.
    polygons
        Census polygons with a residents column, any CRS.
    column
        The residents column (e.g. ``常住人口``).
    boundary
        Study boundary (metric CRS of ``homes``): a polygon cut by it keeps the residents of its
        area inside.
    nested_check
        Look for nested levels (a 区 total with its 街道: the containing polygon is left out)
        and refuse overlapping polygons; off for raster pixels, which never overlap.

    Returns
    -------
    GeoDataFrame
        ``homes`` (a copy) with ``residents`` and ``census_unit`` (polygon row, -1 outside every
        polygon); ``attrs["population"]``: ``input``, ``inside``, ``assigned``, ``units``,
        ``units_without_homes``.
    """
    if polygons.crs is None:
        raise LayerError("census layer has no CRS; set one (e.g. EPSG:4326)")
    pop = residents_of(polygons, column, where="census layer")
    poly = np.asarray(polygons.to_crs(homes.crs).geometry.values, dtype=object)
    finest = finest_level(poly) if nested_check else np.ones(poly.size, dtype=bool)
    poly, pop, dropped = poly[finest], pop[finest], int((~finest).sum())
    frac = np.ones(len(poly))
    if boundary is not None:
        area = shapely.area(poly)
        inside = shapely.area(shapely.intersection(poly, boundary))
        frac = np.where(area > 0, inside / np.where(area > 0, area, 1.0), 0.0)
    pop_in = pop * frac
    out = homes.copy()
    unit = np.full(len(out), -1, dtype=np.int64)
    ih, ip = shapely.STRtree(poly).query(out.geometry.values, predicate="within")
    unit[ih[::-1]] = ip[::-1]  # first polygon wins where polygons overlap
    floor = (
        out["floor_area_m2"].to_numpy(dtype=float)
        if "floor_area_m2" in out.columns
        else np.full(len(out), np.nan)
    )
    land = out["area_m2"].to_numpy(dtype=float)
    residents = np.zeros(len(out))
    empty = []
    for k in range(len(poly)):
        members = np.flatnonzero(unit == k)
        if members.size == 0:
            if pop_in[k] > 0:
                empty.append(k)
            continue
        residents[members] = pop_in[k] * _home_weights(floor[members], land[members])
    out["residents"] = residents
    out["census_unit"] = unit
    top = np.sort(residents)[::-1][: max(1, len(residents) // 100)]
    out["residents"] = residents
    out["census_unit"] = unit
    out.attrs["population"] = {
        "input": float(pop.sum()),
        "inside": float(pop_in.sum()),
        "assigned": float(residents.sum()),
        "units": len(poly),
        "units_without_homes": len(empty),
        "top1pct_share": float(top.sum() / residents.sum()) if residents.sum() > 0 else 0.0,
        "containers_dropped": dropped,
    }
    return out


#: more residents per km² than any neighbourhood holds (Mumbai's Dharavi, the densest, ~280,000;
#: central São Paulo's hexagons reach ~110,000 in 250 m pixels): a raster with such pixels has an
#: undeclared nodata value or another unit
MAX_DENSITY_PER_KM2 = 300_000.0


def _refuse_undeclared_nodata(band: np.ma.MaskedArray, dtype: str, raster: str | Path) -> None:
    """Pixels holding the largest value of their type are nodata a file failed to declare.

    For types of 16 bits and more (65535, 32767, float max); a byte raster's 255 may be people.
    """
    kind = np.dtype(dtype)
    if kind.itemsize < 2:
        return
    top = float(np.iinfo(kind).max if kind.kind in "iu" else np.finfo(kind).max)
    values = np.abs(band.compressed().astype(float))
    if values.size and float(values.max()) >= 0.99 * top:
        raise LayerError(
            f"{raster}: pixels hold {top:.6g}, the largest {dtype} value: nodata that the file "
            f"does not declare; set it (e.g. gdal_edit.py -a_nodata {top:.6g} {Path(raster).name})"
        )


def _refuse_implausible_density(
    counts: NDArray[np.float64], area_m2: NDArray[np.float64], raster: str | Path
) -> None:
    """A pixel with more residents per km² than :data:`MAX_DENSITY_PER_KM2` is refused."""
    if not counts.size:
        return
    dens = counts / np.maximum(area_m2 / 1e6, 1e-12)
    if float(dens.max()) > MAX_DENSITY_PER_KM2:
        raise LayerError(
            f"{raster}: a pixel holds {float(dens.max()):,.0f} residents per km² (no city exceeds "
            f"{MAX_DENSITY_PER_KM2:,.0f}): an undeclared nodata value or a raster of another "
            "unit; declare its nodata (gdal_edit.py -a_nodata) or pass residents per pixel"
        )


#: census polygons overlapping by more than this share of the smaller one count people twice
CENSUS_OVERLAP_SHARE = 0.01
#: a polygon holding at least this share of another is the coarser level of the two
CENSUS_NESTED_SHARE = 0.99


def finest_level(poly: NDArray[np.object_]) -> NDArray[np.bool_]:
    """Which census polygons to use: all, unless some contain others (nested levels).

    A 区 total given with its 街道 would count every resident twice: a polygon that (almost)
    wholly contains another is the coarser level and is left out, the finest used. Polygons
    that overlap without one containing the other cannot be told apart and are refused.

    Parameters
    ----------
    poly
        The census polygons (metric CRS).

    Returns
    -------
    ndarray of bool
        Which polygons are the finest level.

    Raises
    ------
    LayerError
        Two polygons overlap without one containing the other.
    """
    keep = np.ones(poly.size, dtype=bool)
    if poly.size < 2:
        return keep
    i, j = shapely.STRtree(poly).query(poly, predicate="intersects")
    pair = i < j
    i, j = i[pair], j[pair]
    if not i.size:
        return keep
    inter = shapely.area(shapely.intersection(poly[i], poly[j]))
    ai, aj = shapely.area(poly[i]), shapely.area(poly[j])
    small = np.minimum(ai, aj)
    big = inter > CENSUS_OVERLAP_SHARE * np.maximum(small, 1e-9)
    for a, b, x, sa, sb in zip(i[big], j[big], inter[big], ai[big], aj[big], strict=True):
        if x >= CENSUS_NESTED_SHARE * sb and sa > sb:
            keep[a] = False  # a contains b: a is the coarser level
        elif x >= CENSUS_NESTED_SHARE * sa and sb > sa:
            keep[b] = False
        else:
            raise LayerError(
                f"census layer: polygons {a + 1} and {b + 1} overlap by {x / min(sa, sb):.0%} of "
                "the smaller one, so their residents would be counted twice; pass one level of "
                "units (街道 or 社区) whose polygons do not overlap"
            )
    return keep


def _home_weights(floor: NDArray[np.float64], land: NDArray[np.float64]) -> NDArray[np.float64]:
    """Shares (summing to 1) of one census polygon's residents among its homes (module rule).

    Parameters
    ----------
    floor
        Floor area (m²) of each home; NaN for land samples (parcels without buildings).
    land
        Residential land (m²) each home stands for (0 for buildings outside every parcel).
    """
    built = np.isfinite(floor)
    land = np.where(np.isfinite(land) & (land > 0), land, 0.0)
    w = np.zeros(floor.size)
    land_b, land_s = land[built].sum(), land[~built].sum()
    total = land_b + land_s
    part_b = land_b / total if total > 0 else float(built.any())
    if built.any() and part_b > 0:
        f = np.where(floor[built] > 0, floor[built], 0.0)
        w[built] = part_b * (f / f.sum() if f.sum() > 0 else np.full(f.size, 1.0 / f.size))
    if (~built).any() and part_b < 1:
        ls = land[~built]
        w[~built] = (1 - part_b) * (ls / ls.sum() if ls.sum() > 0 else 1.0 / ls.size)
    if w.sum() <= 0:
        w = np.ones(floor.size)
    return _capped(w / w.sum(), MAX_HOME_SHARE)


def _capped(w: NDArray[np.float64], cap: float) -> NDArray[np.float64]:
    """Shares with none above ``cap`` (the excess shared by the others' weights), if possible."""
    if w.size * cap < 1:
        return w
    w = w.copy()
    for _ in range(w.size):
        over = w > cap + 1e-12
        if not over.any():
            break
        excess = float((w[over] - cap).sum())
        w[over] = cap
        free = w < cap - 1e-12
        if not free.any():
            break
        fw = w[free]
        w[free] += excess * (fw / fw.sum() if fw.sum() > 0 else np.full(fw.size, 1.0 / fw.size))
    return w


def raster_pixels(
    raster: str | Path, *, boundary: BaseGeometry, crs: object
) -> tuple[NDArray[np.object_], NDArray[np.float64]]:
    """The pixels of a population raster over a study area that hold people, in a metric CRS.

    Parameters
    ----------
    raster
        GeoTIFF of residents per pixel, any CRS (nodata and negative values are no people).
    boundary
        The study area, in ``crs``.
    crs
        The metric CRS of the city.

    Returns
    -------
    pixels : ndarray of Polygon
        Each pixel with people whose window meets the study area's bounds, in ``crs`` (whole).
    counts : ndarray of float
        Its residents (the whole pixel's).

    Raises
    ------
    InputFileError
        The file is not a raster, has no CRS, does not overlap the study area, holds an
        undeclared nodata value or implausible densities.
    """
    import rasterio
    import rasterio.windows

    from geoplan._errors import InputFileError

    try:
        ds = rasterio.open(raster)
    except rasterio.errors.RasterioIOError as exc:
        raise InputFileError(f"{raster}: cannot open as a raster ({exc}); pass a GeoTIFF") from exc
    with ds:
        if ds.crs is None:
            raise InputFileError(f"{raster}: raster has no CRS; save it with one (e.g. EPSG:4326)")
        bnd = gpd.GeoSeries([boundary], crs=crs).to_crs(ds.crs).iloc[0]
        rb = ds.bounds
        if not bnd.intersects(shapely.box(rb.left, rb.bottom, rb.right, rb.top)):
            from geoplan._raster import raster_overlap_error

            raise InputFileError(raster_overlap_error(raster, ds.crs, rb, "a population raster"))
        win = rasterio.windows.from_bounds(*bnd.bounds, transform=ds.transform)
        win = (
            win.round_offsets()
            .round_lengths()
            .intersection(rasterio.windows.Window(0, 0, ds.width, ds.height))
        )
        band = ds.read(1, window=win, masked=True)
        _refuse_undeclared_nodata(band, ds.dtypes[0], raster)
        data = band.astype(float).filled(0.0)
        tr = ds.window_transform(win)
        rcrs = ds.crs
    data[~np.isfinite(data) | (data < 0)] = 0.0
    rows, cols = np.nonzero(data > 0)
    x0 = tr.c + cols * tr.a
    y0 = tr.f + rows * tr.e
    cells = shapely.box(x0, y0 + tr.e, x0 + tr.a, y0) if rows.size else np.zeros(0, dtype=object)
    cells_m = np.asarray(gpd.GeoSeries(cells, crs=rcrs).to_crs(crs).values, dtype=object)
    counts = data[rows, cols]
    _refuse_implausible_density(counts, shapely.area(cells_m), raster)
    return cells_m, counts


def distribute_raster(
    homes: gpd.GeoDataFrame, raster: str | Path, *, boundary: BaseGeometry
) -> gpd.GeoDataFrame:
    """Homes with ``residents`` from a population raster (WorldPop / GHSL GeoTIFF, any CRS).

    Each pixel's count (times the share of its area inside ``boundary``) goes to the homes inside
    it, by the same weights as :func:`distribute_census`; a pixel with people but no home becomes
    a home at its centre (``source`` "raster_cell"), so unmapped neighbourhoods still count.

    Parameters
    ----------
    homes
        Homes of the city (metric CRS).
    raster
        GeoTIFF of residents per pixel (nodata and negative values are no people).
    boundary
        Study boundary (metric CRS of ``homes``).

    Returns
    -------
    GeoDataFrame
        The homes (and new pixel homes) with ``residents``; ``attrs["population"]``: ``input``
        (pixels over the study area), ``inside``, ``assigned``, ``pixel_homes``.
    """
    cells_m, counts = raster_pixels(raster, boundary=boundary, crs=homes.crs)
    total = float(counts.sum())
    frac = shapely.area(shapely.intersection(cells_m, boundary)) / np.maximum(
        shapely.area(cells_m), 1e-12
    )
    value = counts * frac
    units = gpd.GeoDataFrame({"pop": value}, geometry=cells_m, crs=homes.crs)
    units = units.loc[units["pop"] > 0].reset_index(drop=True)
    out = distribute_census(homes, units, column="pop", nested_check=False)
    empty = np.setdiff1d(np.arange(len(units)), out["census_unit"].to_numpy())
    if empty.size:
        centres = shapely.centroid(units.geometry.values[empty])
        extra = gpd.GeoDataFrame(
            {
                "home_id": np.arange(len(out), len(out) + empty.size, dtype=np.int64),
                "source": "raster_cell",
                "parcel_osmid": -1,
                "area_m2": 0.0,
                "residents": units["pop"].to_numpy()[empty],
                "census_unit": empty,
            },
            geometry=list(centres),
            crs=homes.crs,
        )
        out = gpd.GeoDataFrame(pd.concat([out, extra], ignore_index=True), crs=homes.crs)
    out.attrs["population"] = {
        "input": total,
        "inside": float(value.sum()),
        "assigned": float(out["residents"].sum()),
        "units": len(units),
        "units_without_homes": 0,
        "pixel_homes": int(empty.size),
    }
    return out


def check_homes(
    city: City,
    *,
    population: gpd.GeoDataFrame | None = None,
    population_column: str = "population",
    population_kind: Literal["auto", "census", "cells"] = "auto",
    population_raster: str | Path | None = None,
    home_spacing_m: float = 50.0,
) -> gpd.GeoDataFrame:
    """The homes a check measures from, for every tool that measures (check, siting).

    The city's homes (:func:`geoplan.city.homes.homes_from_city`), population cells as homes, or the
    city's homes carrying census or raster counts.

    Parameters
    ----------
    city
        The loaded city (metric CRS).
    population
        Population points / cells or census polygons (any CRS), or ``None``.
    population_column
        Residents column of ``population``.
    population_kind
        ``auto``, ``census`` (polygons spread over homes) or ``cells`` (each feature a home).
    population_raster
        A population GeoTIFF (residents per pixel), spread over the homes in each pixel.
    home_spacing_m
        Sample spacing (m) in residential parcels without mapped buildings.

    Returns
    -------
    GeoDataFrame
        Homes (points, ``city.crs``) with ``area_m2`` and ``residents`` (NaN when unknown).
    """
    if population_raster is not None:
        return distribute_raster(
            homes_from_city(city, spacing_m=home_spacing_m),
            population_raster,
            boundary=city.boundary_polygon,
        )
    return _homes(city, population, population_column, population_kind, home_spacing_m)


def _homes(
    city: City,
    population: gpd.GeoDataFrame | None,
    column: str,
    kind: str,
    spacing_m: float,
) -> gpd.GeoDataFrame:
    """The homes of a check: the city's, population cells, or the city's with census counts."""
    if population is None:
        return homes_from_city(city, spacing_m=spacing_m)
    if kind not in ("auto", "census", "cells"):
        raise LayerError(f"population kind must be auto, census or cells, not {kind!r}")
    if kind == "cells":
        return homes_from_population(
            population, crs=city.crs, column=column, boundary=city.boundary_polygon
        )
    homes = homes_from_city(city, spacing_m=spacing_m)
    if population.crs is None:
        raise LayerError("population layer has no CRS; set one (e.g. EPSG:4326)")
    polys = population.to_crs(city.crs)
    if kind == "auto" and not looks_like_census(polys, homes):
        return homes_from_population(
            population, crs=city.crs, column=column, boundary=city.boundary_polygon
        )
    if shapely.get_type_id(polys.geometry.values).min() < 3:
        raise LayerError(
            "census population needs polygons (街道 / 社区); these are points: use "
            "--population-kind cells"
        )
    return distribute_census(homes, polys, column=column, boundary=city.boundary_polygon)
