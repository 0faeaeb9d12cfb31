"""Population inputs: points or cells with residents (vector file, or CSV with lon/lat)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd


def read_population(path: Path, *, column: str) -> gpd.GeoDataFrame:
    """Population points/cells: a vector file, or a CSV with lon/lat columns (WGS84)."""
    from geoplan.homes import residents_of
    from geoplan.io.plan_layers import read_plan_layer

    layer = read_plan_layer(path, required_columns=[column], kind="population")
    residents_of(layer.gdf, column, where=str(path))
    return layer.gdf
