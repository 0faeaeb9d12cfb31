"""Provenance of a run: what geoplan read, when, how — written beside every output set.

Recorded: geoplan's version, the run date (UTC), every input file with its size and SHA-256, the
OSM data timestamp (the PBF header's replication timestamp, else the newest object's), the CRS of
the computation and of the outputs, the built-up area used, population and POI sources, and the
target sheet with the document its clauses come from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from geoplan._version import __version__
from geoplan.city import City, demo_path

_OSM_TIME: dict[tuple[str, int, int], str | None] = {}


def osm_timestamp(path: str | Path) -> str | None:
    """The OSM data timestamp: header ``osmosis_replication_timestamp``, else the newest object.

    ISO 8601 UTC; ``None`` when the file carries no timestamps. Memoised per file version.

    Parameters
    ----------
    path
        An OSM file.

    Returns
    -------
    str or None
        ISO 8601 UTC time of the data.
    """
    import osmium

    p = Path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    if key in _OSM_TIME:
        return _OSM_TIME[key]
    r = osmium.io.Reader(str(p), osmium.osm.osm_entity_bits.NOTHING)
    try:
        stamp = r.header().get("osmosis_replication_timestamp") or None
    finally:
        r.close()
    if not stamp:
        newest = None
        for obj in osmium.FileProcessor(str(p)):
            t = getattr(obj, "timestamp", None)
            if t is not None and t.year > 1970 and (newest is None or t > newest):
                newest = t
        stamp = newest.astimezone(dt.UTC).isoformat() if newest is not None else None
    _OSM_TIME[key] = stamp
    return stamp


_FILE_HASHES: dict[tuple[str, int, int], str] = {}


def file_sha256(path: str) -> str:
    """SHA-256 of a file, memoised per process by path, size and modification time.

    Parameters
    ----------
    path
        A file.

    Returns
    -------
    str
        Hex digest.
    """
    p = Path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    got = _FILE_HASHES.get(key)
    if got is None:
        h = hashlib.sha256()
        with p.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 22), b""):
                h.update(chunk)
        got = h.hexdigest()
        _FILE_HASHES[key] = got
    return got


def file_entry(path: str | Path) -> dict[str, Any]:
    """Path, size and SHA-256 of one input file.

    Parameters
    ----------
    path
        An input file.

    Returns
    -------
    dict
        ``path`` (resolved), ``bytes``, ``sha256``.
    """
    p = Path(path)
    return {
        "path": str(p.resolve()),
        "bytes": p.stat().st_size,
        "sha256": file_sha256(str(p)),
    }


def provenance(
    city: City,
    result: Any,
    *,
    osm: str | Path,
    inputs: Mapping[str, str | Path | None] | None = None,
    output_crs: Any = None,
) -> dict[str, Any]:
    """The provenance record of a check (JSON-ready).

    Parameters
    ----------
    city, result
        The loaded city and its :class:`~geoplan.scoring.check.CheckResult`.
    osm
        The OSM source as given (``demo`` = the embedded extract).
    inputs
        Other inputs by role (``boundary``, ``population``, ``facilities_1``, ``built_up`` …);
        ``None`` entries are left out.
    output_crs
        CRS of the written layers, when it differs from the computation's.

    Returns
    -------
    dict
        The record (JSON-ready).
    """
    src = demo_path() if str(osm) == "demo" else Path(osm)
    files: dict[str, Any] = {"osm": file_entry(src)}
    for role, p in (inputs or {}).items():
        if p is not None and Path(p).is_file():
            files[role] = file_entry(p)
    sheet = result.sheet
    s = sheet.source
    pop = result.homes.attrs.get("population")
    area = result.area
    return {
        "geoplan_version": __version__,
        "run_date_utc": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "inputs": files,
        "osm_data_timestamp": osm_timestamp(src),
        "crs": city.crs.to_string(),
        "crs_name": city.crs.name,
        "output_crs": (output_crs.to_string() if hasattr(output_crs, "to_string") else output_crs)
        or city.crs.to_string(),
        "study_area_km2": round(city.area_km2, 4),
        "area_basis": result.area_source,
        "area_km2": round((area.area if area is not None else city.boundary_polygon.area) / 1e6, 4),
        "population_source": (
            {k: v for k, v in pop.items() if isinstance(v, int | float | str)} if pop else "none"
        ),
        "homes": len(result.homes),
        "target_sheet": {
            "id": sheet.id,
            "name_zh": sheet.name_zh,
            "year": sheet.year,
            "clause_source": {
                "title": s.title,
                "doc_no": getattr(s, "doc_no", None),
                "issuer": getattr(s, "issuer", None),
                "date": str(getattr(s, "date", "") or "") or None,
            },
            "file": str(sheet.path),
        },
        "notes": list(result.notes),
        "attribution": "© OpenStreetMap contributors (ODbL)",
    }


def provenance_rows(doc: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """The record flattened to (key, value) rows, for a workbook sheet or a GPKG table.

    Parameters
    ----------
    doc
        The record (:func:`provenance`).
    prefix
        Key prefix of nested entries (used when recursing).

    Returns
    -------
    list of tuple
        ``(dotted key, text)`` rows.
    """
    rows: list[tuple[str, str]] = []
    for k, v in doc.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            rows += provenance_rows(v, prefix=f"{key}.")
        elif isinstance(v, list):
            rows.append((key, "; ".join(str(x) for x in v)))
        else:
            rows.append((key, "" if v is None else str(v)))
    return rows
