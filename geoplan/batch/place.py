"""One place of a batch: check it as ``geoplan check`` would, write its outputs, sum it up.

:func:`run_place` is a plain picklable function of a :class:`~geoplan.batch.spec.Place` and an
output folder, so every engine (serial, a process pool, Dask) runs the same code; it never
raises for a place's own problem — the summary row carries the one-line error instead.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import shapely

from geoplan._errors import GeoplanError
from geoplan._version import __version__
from geoplan.batch.spec import Place
from geoplan.io.boundary import WARN_DATA_SHARE
from geoplan.names import Status
from geoplan.outputs.provenance import file_sha256
from geoplan.rules.datafile import DATA_DIR

#: name of the record a finished place leaves in its folder (content hash and summary row)
RECORD = "place_summary.json"
#: status of a place whose study area the OSM data covers only in part (under 95 %)
PARTIAL = "partial data"


def _data_hash() -> str:
    """Hash of geoplan's own data files (taxonomy, life circles, target sheets …)."""
    h = hashlib.sha256()
    for p in sorted(DATA_DIR.rglob("*.yaml")):
        h.update(p.relative_to(DATA_DIR).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def place_hash(place: Place) -> str:
    """Content hash of a place: its settings, its input files, geoplan's version and data.

    Missing inputs hash as missing (the place will fail with its own message).

    Parameters
    ----------
    place
        A place of the batch.

    Returns
    -------
    str
        SHA-1 hex digest.
    """
    h = hashlib.sha256()
    h.update(json.dumps(asdict(place), sort_keys=True, default=str).encode())
    for f in place.inputs():
        h.update(f.encode())
        h.update(file_sha256(f).encode() if Path(f).is_file() else b"missing")
    h.update(__version__.encode())
    h.update(_data_hash().encode())
    return h.hexdigest()


def _one_line(exc: BaseException) -> str:
    msg = " ".join(str(exc).split())
    if isinstance(exc, GeoplanError):
        return msg
    return f"internal error {type(exc).__name__}: {msg} (rerun this place alone with --debug)"


def _row(place: Place, result: Any, city: Any, seconds: float, digest: str) -> dict[str, Any]:
    card = result.scorecard
    counts = card["status"].value_counts()
    n_pass, n_fail = int(counts.get(Status.PASS, 0)), int(counts.get(Status.FAIL, 0))
    measured = {}
    for r in card.itertuples():
        v = r.measured
        key = f"{r.target_id}|{r.method}" if r.method else str(r.target_id)
        measured[key] = None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
    bnd = city.boundary.to_crs(4326).geometry.values[0]
    return {
        "name": place.name,
        # a place the OSM extract covers only in part is ranked, but says so
        "status": PARTIAL if city.report.data_share < WARN_DATA_SHARE else "ok",
        "data_share": city.report.data_share,
        "error": "",
        "targets": result.sheet.id,
        "pass": n_pass,
        "fail": n_fail,
        "no_data": int(counts.get(Status.NO_DATA, 0)),
        "not_checkable": int(counts.get(Status.NOT_CHECKABLE, 0)),
        "measured_only": int(counts.get(Status.MEASURED, 0)),
        "pass_rate": n_pass / (n_pass + n_fail) if n_pass + n_fail else None,
        "area_km2": round(float(city.area_km2), 3),
        "homes": len(result.homes),
        "seconds": round(seconds, 2),
        "measured": measured,
        "boundary_wkt": shapely.to_wkt(shapely.simplify(bnd, 1e-5), rounding_precision=6),
        "hash": digest,
    }


def run_place(place: Place, out_dir: str, force: bool = False) -> dict[str, Any]:
    """Check one place and write its outputs into ``out_dir/<name>/``; return its summary row.

    A place whose content hash (:func:`place_hash`) matches the record of a finished earlier run
    is skipped (``status`` ``skipped``, its earlier row) unless ``force``. A failure returns
    ``status`` ``failed`` with a one-line ``error``; nothing is written for it.

    Parameters
    ----------
    place
        A place of the batch.
    out_dir
        Output folder (its ``<name>/`` subfolder is the place's).
    force
        Run even when the earlier results are current.

    Returns
    -------
    dict
        The place's summary row (``status`` ``ok``, ``partial data``, ``skipped`` or ``failed``).
    """
    from geoplan.city import share_osm_reads
    from geoplan.outputs.check_set import write_check_set

    t0 = time.perf_counter()
    folder = Path(out_dir) / place.name
    try:
        digest = place_hash(place)
        rec = folder / RECORD
        if not force and rec.is_file():
            old = json.loads(rec.read_text(encoding="utf-8"))
            if old.get("hash") == digest and old.get("status") in ("ok", PARTIAL):
                return old | {"status": "skipped"}
        share_osm_reads(2)
        city = place.study.load(progress=False)
        result = place.study.check(place.targets, city=city)
        row = _row(place, result, city, time.perf_counter() - t0, digest)
        row["notes"] = [*city.report.notes, *result.notes]

        def record() -> dict[str, str]:
            row["seconds"] = round(time.perf_counter() - t0, 2)
            return {RECORD: json.dumps(row, ensure_ascii=False)}

        write_check_set(
            place.study,
            city,
            result,
            out=folder,
            targets=place.targets,
            map_path=folder / f"{place.name}.html" if place.map else None,
            extra_texts=record,
            run_name=f"batch-{place.name}",
        )
        return row
    except Exception as exc:  # one place's failure must not stop the batch
        return {
            "name": place.name,
            "status": "failed",
            "error": _one_line(exc),
            "targets": place.targets,
            "seconds": round(time.perf_counter() - t0, 2),
            "measured": {},
        }


__all__ = ["RECORD", "file_sha256", "place_hash", "run_place"]
