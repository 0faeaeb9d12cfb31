"""Population inputs: points or cells with residents (vector file, or CSV with lon/lat)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from geoplan._errors import LayerError


def residents_of(table: pd.DataFrame, column: str, *, where: str) -> NDArray[np.float64]:
    """The residents column as floats, or a one-line error naming the first bad row.

    Text, empty (NaN), infinite and negative values are refused: a wrong count would move every
    by-residents share without a warning. Rows are numbered as in a spreadsheet (header = row 1).

    Parameters
    ----------
    table
        The population table.
    column
        Its residents column.
    where
        The file, for the message.

    Returns
    -------
    ndarray of float64
        Residents per row (non-negative).
    """
    raw = table[column]
    num = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(num) | (num < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        v = raw.iloc[i]
        what = "negative" if np.isfinite(num[i]) else "not a number"
        raise LayerError(
            f"{where}: column {column!r}, row {i + 2}: {v!r} is {what} "
            f"({int(bad.sum())} such rows); give a count of residents (0 or more) in every row"
        )
    return num


def read_population(path: Path, *, column: str) -> gpd.GeoDataFrame:
    """Population points/cells: a vector file, or a CSV with lon/lat columns (WGS84).

    Parameters
    ----------
    path
        A vector file, or a CSV with lon/lat columns (WGS84).
    column
        Residents column.

    Returns
    -------
    GeoDataFrame
        Points or polygons in WGS84 with ``column`` as floats.
    """
    from geoplan.io.plan_layers import read_plan_layer

    layer = read_plan_layer(path, required_columns=[column], kind="population")
    residents_of(layer.gdf, column, where=str(path))
    return layer.gdf
