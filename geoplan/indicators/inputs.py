"""What the indicators read: a city's layers, its homes, and the population total."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geoplan.city import City
from geoplan.indicators.cover import AreaMethod, Buffers


@dataclass(frozen=True)
class Inputs:
    """The layers an indicator reads (all in the city's metric CRS).

    Attributes
    ----------
    city
        The loaded city: ``facilities``, ``parks``, ``bus_stops``, ``roads``, ``residential``,
        ``network`` and the boundary.
    homes
        Homes (points) with ``area_m2`` and ``residents``.
    landcover
        Path of a land-cover or NDVI GeoTIFF (绿化覆盖率), if given.
    built_up
        The built-up area (建成区 / 中心城区, metric CRS): the denominator of area-based figures.
    built_up_source
        Where it comes from: ``file`` (the planner's polygon), ``osm`` (derived), ``study_area``.
    areas
        How buffer coverage is measured: ``exact`` (overlay of the unions) or ``cells`` (land
        cells; :mod:`geoplan.indicators.cover`).
    """

    city: City
    homes: gpd.GeoDataFrame
    landcover: str | None = None
    built_up: BaseGeometry | None = None
    built_up_source: str = "file"
    areas: AreaMethod = "exact"

    def buffers(self, geoms: NDArray[np.object_], radius_m: float | NDArray[np.float64]) -> Buffers:
        """The buffer coverage of ``geoms`` at ``radius_m``, measured by this run's method.

        Parameters
        ----------
        geoms
            Facility geometries (metric CRS).
        radius_m
            One radius, or one per geometry (m).

        Returns
        -------
        Buffers
        """
        return Buffers.of(geoms, radius_m, method=self.areas)

    @property
    def boundary(self) -> BaseGeometry:
        """The area the area-based figures use (metric CRS).

        The study boundary, or its part inside the built-up area (建成区 / 中心城区) when one is
        given.

        Returns
        -------
        BaseGeometry
        """
        if self.built_up is None:
            return self.city.boundary_polygon
        memo = self.__dict__.setdefault("_area", {})
        if "v" not in memo:
            memo["v"] = shapely.intersection(self.city.boundary_polygon, self.built_up)
        return memo["v"]

    @property
    def residents_total(self) -> float | None:
        """Sum of residents over the homes, ``None`` when no home has a count.

        Returns
        -------
        float or None
        """
        res = self.homes["residents"]
        if not res.notna().any():
            return None
        return float(np.nansum(res.to_numpy(dtype=float)))


def frame_key(gdf: gpd.GeoDataFrame) -> str:
    """Content hash of a layer: geometries (WKB) and every attribute column.

    Parameters
    ----------
    gdf
        A city layer.

    Returns
    -------
    str
        SHA-1 hex digest.
    """
    h = hashlib.sha1(usedforsecurity=False)
    h.update(str(gdf.crs).encode())
    if len(gdf):
        h.update(b"".join(shapely.to_wkb(gdf.geometry.values, hex=False)))
        attrs = gdf.drop(columns=gdf.geometry.name)
        for name in attrs.columns:
            h.update(f"|{name}|".encode())
            col = attrs[name]
            if col.dtype.kind in "biuf":  # numbers and flags: their bytes (no string copy)
                h.update(col.dtype.str.encode())
                h.update(np.ascontiguousarray(col.to_numpy()).tobytes())
                continue
            try:  # strings, None and NaN hash as they are
                hv = pd.util.hash_pandas_object(col, index=False)
            except (TypeError, ValueError):  # other objects: by their text
                hv = pd.util.hash_pandas_object(col.astype(str), index=False)
            h.update(hv.to_numpy().tobytes())
    return h.hexdigest()


def layer_keys(inputs: Inputs, reads: tuple[str, ...]) -> dict[str, str]:
    """Content hash of each layer an indicator reads (memoised per :class:`Inputs`).

    Parameters
    ----------
    inputs
        The run's inputs.
    reads
        Names of the layers (``parks``, ``homes``, ``network`` …).

    Returns
    -------
    dict of str to str
        Layer name → content hash.
    """
    memo: dict[str, str] = inputs.__dict__.setdefault("_layer_keys", {})
    out = {}
    for name in reads:
        if name not in memo:
            memo[name] = _layer_key(inputs, name)
        out[name] = memo[name]
    return out


def _layer_key(inputs: Inputs, name: str) -> str:
    c = inputs.city
    if name == "network":
        from geoplan.network.cache import network_key

        return network_key(c.network)
    if name == "homes":
        return frame_key(inputs.homes[["area_m2", "residents", inputs.homes.geometry.name]])
    if name == "boundary":
        return hashlib.sha1(shapely.to_wkb(inputs.boundary), usedforsecurity=False).hexdigest()
    if name == "landcover":
        if inputs.landcover is None:
            return ""
        st = os.stat(inputs.landcover)
        return f"{inputs.landcover}:{st.st_size}:{st.st_mtime_ns}"
    layer = getattr(c, name)
    return "" if layer is None else frame_key(layer)
