"""Atomic output files: write to a temporary path beside the target, then ``os.replace`` it.

Every geoplan output (GeoPackages, spreadsheets, maps) goes through :func:`atomic_path`, so a crash
or an exception half-way through a write never leaves a truncated file behind and never damages a
file that already exists at the target path: the target is either the complete new file or the
untouched old one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import pyogrio

__all__ = ["atomic_path", "write_gpkg_atomic"]


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write to; move it onto ``path`` only if the block succeeds.

    The temporary file lives in a fresh hidden directory (``.<name>.<random>.tmp``) inside the
    target's directory, so the final :func:`os.replace` is a same-filesystem atomic rename, and it
    keeps the target's file name, so drivers that choose a format by extension (GDAL) behave as they
    would for the target. Whatever the block writes next to the temporary file (GDAL journals,
    shapefile sidecars) is removed with the directory.

    Parameters
    ----------
    path : str or os.PathLike
        Final output path. Missing parent directories are created. An existing file at ``path`` is
        replaced only when the ``with`` block finishes without an exception.

    Yields
    ------
    pathlib.Path
        Temporary path with the same file name as ``path``; the block must create it.

    Raises
    ------
    FileNotFoundError
        If the block finished but did not create the temporary file.

    Examples
    --------
    >>> with atomic_path(tmp_dir / "summary.csv") as tmp:  # doctest: +SKIP
    ...     frame.to_csv(tmp)
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    tmp = tmp_dir / target.name
    try:
        yield tmp
        if not tmp.is_file():
            raise FileNotFoundError(
                f"{target}: nothing was written to the temporary file {tmp}; "
                "write the output to the path yielded by atomic_path()"
            )
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def write_gpkg_atomic(path: str | os.PathLike[str], layers: Mapping[str, gpd.GeoDataFrame]) -> Path:
    """Write several GeoDataFrames as the layers of one GeoPackage, atomically.

    All layers are written into a temporary GeoPackage (see :func:`atomic_path`), which then
    replaces ``path`` in one step. If any layer fails, ``path`` is left as it was (absent, or the
    previous file) and no partial file remains. Each layer keeps its own CRS; geoplan's outputs
    are normally EPSG:4326 (WGS84 longitude / latitude, degrees).

    Parameters
    ----------
    path : str or os.PathLike
        Output ``.gpkg`` path. An existing file is replaced as a whole (its other layers are not
        kept).
    layers : Mapping[str, geopandas.GeoDataFrame]
        Layer name → data, written in mapping order. Names must be non-empty and distinct ignoring
        case (GeoPackage table names are case-insensitive). Every frame must have a CRS.

    Returns
    -------
    pathlib.Path
        The written path.

    Raises
    ------
    ValueError
        If ``layers`` is empty, a name is empty or repeated, or a frame has no CRS.
    TypeError
        If a value is not a GeoDataFrame.
    """
    _check_layers(path, layers)
    with atomic_path(path) as tmp:
        for name, frame in layers.items():
            pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG")
    return Path(path)


def _check_layers(path: str | os.PathLike[str], layers: Mapping[str, gpd.GeoDataFrame]) -> None:
    if not layers:
        raise ValueError(f"{path}: no layers to write; pass at least one GeoDataFrame")
    seen: dict[str, str] = {}
    for name, frame in layers.items():
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{path}: layer name {name!r} is empty; name every layer")
        if name.lower() in seen:
            raise ValueError(
                f"{path}: layer names {seen[name.lower()]!r} and {name!r} clash "
                "(GeoPackage names ignore case); rename one of them"
            )
        seen[name.lower()] = name
        if not isinstance(frame, gpd.GeoDataFrame):
            raise TypeError(
                f"{path}: layer {name!r} is a {type(frame).__name__}, not a GeoDataFrame; "
                "convert it with geopandas.GeoDataFrame(..., geometry=..., crs=...)"
            )
        if frame.crs is None:
            raise ValueError(
                f"{path}: layer {name!r} has no CRS; set one with .set_crs() before writing"
            )
