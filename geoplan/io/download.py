"""Download OpenStreetMap data from Overpass, on request only, cached on disk.

:func:`geoplan.load_city` never goes online. Users with internet call
:func:`download_osm` (or ``geoplan layers --place "郑州市中原区" --download``) to fetch an
``.osm`` XML file for a place name or a polygon, then load that file like any other extract.

A place name is geocoded once with OSMnx (``osmnx.geocode_to_gdf``, Nominatim); its polygon and
the Overpass answer are cached under ``~/.cache/geoplan/overpass`` (or ``$XDG_CACHE_HOME``),
keyed by the SHA-256 of the place name / of the query text, so a second call makes no request.

Data © OpenStreetMap contributors (ODbL).

>>> from geoplan.io.download import download_osm
>>> path = download_osm("郑州市中原区")                 # doctest: +SKIP
>>> city = geoplan.load_city(path, boundary=place_polygon("郑州市中原区"))  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import TypeAlias

import shapely
from shapely.geometry.base import BaseGeometry

from geoplan._errors import DownloadError, LayerError

#: public Overpass API endpoint (https://wiki.openstreetmap.org/wiki/Overpass_API)
DEFAULT_OVERPASS_URL = "https://overpass-api.de/api/interpreter"


#: polygons with more vertices than this are simplified (and slightly buffered so they still cover
#: the area) before going into the query: Overpass ``poly:`` filters get slow on long rings
MAX_QUERY_VERTICES = 1000


AreaLike: TypeAlias = str | BaseGeometry | tuple[float, float, float, float]


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/geoplan/overpass``, by default ``~/.cache/geoplan/overpass``.

    Returns
    -------
    Path
    """
    base = os.environ.get("XDG_CACHE_HOME") or str(Path("~/.cache").expanduser())
    return Path(base) / "geoplan" / "overpass"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _geocode(place: str) -> BaseGeometry:
    """Polygon of a place name in WGS84 via OSMnx / Nominatim (network)."""
    import osmnx as ox

    try:
        gdf = ox.geocode_to_gdf(place)
    except Exception as exc:  # osmnx raises InsufficientResponseError, requests errors, ...
        raise DownloadError(
            f"cannot geocode {place!r} ({type(exc).__name__}: {exc}); check the name and the "
            "internet connection, or pass a boundary polygon / a local .osm.pbf instead"
        ) from exc
    geom = shapely.union_all(gdf.to_crs(4326).geometry.values)
    if geom.geom_type not in ("Polygon", "MultiPolygon") or geom.is_empty:
        raise DownloadError(
            f"{place!r} geocodes to a {geom.geom_type}, not an area; name a district or city, "
            "or pass a boundary polygon"
        )
    return geom


def place_polygon(place: str, *, cache_dir: str | Path | None = None) -> BaseGeometry:
    """WGS84 polygon of a place name (geocoded once with OSMnx, then read from the cache).

    Raises
    ------
    DownloadError
        If geocoding fails or the place is not an area.

    Parameters
    ----------
    place
        A place name OSMnx can geocode (``郑州市中原区``).
    cache_dir
        Cache folder (default :func:`default_cache_dir`).

    Returns
    -------
    BaseGeometry
        WGS84 (multi)polygon.
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = cache / f"place-{_sha256(place.strip())}.wkt"
    if path.is_file():
        return shapely.from_wkt(path.read_text(encoding="utf-8"))
    geom = _geocode(place.strip())
    _write_atomic(path, shapely.to_wkt(geom, rounding_precision=-1).encode("utf-8"))
    return geom


def _area_polygon(area: AreaLike, cache_dir: Path) -> BaseGeometry | tuple[float, ...]:
    if isinstance(area, str):
        return place_polygon(area, cache_dir=cache_dir)
    if isinstance(area, tuple):
        if len(area) != 4:
            raise LayerError("bbox must be (min_lon, min_lat, max_lon, max_lat) in degrees")
        minx, miny, maxx, maxy = (float(v) for v in area)
        if not (-180 <= minx < maxx <= 180 and -90 <= miny < maxy <= 90):
            raise LayerError(
                f"bbox {area} is not (min_lon, min_lat, max_lon, max_lat) in WGS84 degrees"
            )
        return (minx, miny, maxx, maxy)
    if isinstance(area, BaseGeometry):
        if area.geom_type not in ("Polygon", "MultiPolygon") or area.is_empty:
            raise LayerError(f"download area must be a polygon, got {area.geom_type}")
        return area
    raise LayerError(
        f"download area must be a place name, a WGS84 polygon or a bbox tuple, not {type(area)}"
    )


def _poly_filters(geom: BaseGeometry) -> list[str]:
    """Overpass ``poly:"lat lon ..."`` strings, one per outer ring (holes are ignored)."""
    n = shapely.get_num_coordinates(geom)
    if n > MAX_QUERY_VERTICES:
        tol = 0.0005  # degrees, ~50 m; buffered by the same so the query still covers the area
        geom = geom.buffer(tol).simplify(tol, preserve_topology=True)
    polys = list(getattr(geom, "geoms", [geom]))
    out = []
    for p in polys:
        coords = list(p.exterior.coords)[:-1]
        out.append(" ".join(f"{lat:.7f} {lon:.7f}" for lon, lat in coords))
    return out


def overpass_query(area: BaseGeometry | tuple[float, ...], *, timeout_s: int = 180) -> str:
    """Overpass QL for every node, way and relation in ``area``, recursed down, as OSM XML.

    ``area`` is a WGS84 polygon or a ``(min_lon, min_lat, max_lon, max_lat)`` bbox. Ways and
    relations that cross the area come with all their nodes / members (``(._;>;);``), so
    ``load_city`` gets whole geometries and clips them itself.

    Parameters
    ----------
    area
        A WGS84 polygon or a ``(min_lon, min_lat, max_lon, max_lat)`` bbox.
    timeout_s
        Overpass server timeout (s).

    Returns
    -------
    str
        The query text.
    """
    if isinstance(area, tuple):
        w, s, e, n = area
        selectors = [f"  nwr({s:.7f},{w:.7f},{n:.7f},{e:.7f});"]
    else:
        selectors = [f'  nwr(poly:"{p}");' for p in _poly_filters(area)]
    return "\n".join(
        [
            f"[out:xml][timeout:{int(timeout_s)}];",
            "(",
            *selectors,
            ");",
            "(._;>;);",
            "out body;",
        ]
    )


def _http_post(url: str, query: str, timeout_s: float) -> bytes:
    """POST an Overpass query; returns the response body (network)."""
    body = urllib.parse.urlencode({"data": query}).encode("utf-8")
    req = urllib.request.Request(
        url, data=body, headers={"User-Agent": "geoplan (https://github.com/geoplan)"}
    )
    with urllib.request.urlopen(req, timeout=timeout_s) as resp:
        data: bytes = resp.read()
    return data


def _check_response(data: bytes, url: str) -> None:
    head = data[:2000].lstrip()
    if not (head.startswith(b"<?xml") or head.startswith(b"<osm")) or b"<osm" not in head:
        raise DownloadError(
            f"Overpass at {url} did not return OSM XML (starts {head[:80]!r}); retry later"
        )
    if b"<remark>" in data[-5000:] or b"<remark>" in head:
        raise DownloadError(
            f"Overpass at {url} stopped with an error (timeout or memory limit); retry later, "
            "raise timeout_s or ask for a smaller area"
        )
    if b"<node" not in data:
        raise DownloadError(f"Overpass at {url} returned no data for this area; check the area")


def download_osm(
    place_or_polygon: AreaLike,
    *,
    cache_dir: str | Path | None = None,
    overpass_url: str = DEFAULT_OVERPASS_URL,
    timeout_s: int = 180,
) -> Path:
    """Download OSM data for a place name, polygon or bbox from Overpass, cached on disk.

    Parameters
    ----------
    place_or_polygon
        A place name geocoded with OSMnx (``"郑州市中原区"``), a shapely (multi)polygon in WGS84
        degrees, or a ``(min_lon, min_lat, max_lon, max_lat)`` bbox.
    cache_dir
        Cache directory (default :func:`default_cache_dir`). The file is
        ``<sha256 of the query>.osm``; an existing file is returned without any request.
    overpass_url
        Overpass API interpreter endpoint.
    timeout_s
        Server-side and client-side timeout in seconds.

    Returns
    -------
    pathlib.Path
        The cached ``.osm`` XML file, ready for :func:`geoplan.load_city`.

    Raises
    ------
    DownloadError
        If geocoding or the download fails (no connection, server busy, error remark).
    """
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    area = _area_polygon(place_or_polygon, cache)
    query = overpass_query(area, timeout_s=timeout_s)
    path = cache / f"{_sha256(query)}.osm"
    if path.is_file():
        return path
    try:
        data = _http_post(overpass_url, query, timeout_s + 30)
    except (urllib.error.URLError, OSError) as exc:  # HTTPError, timeouts, DNS failures
        reason = getattr(exc, "reason", None) or exc
        raise DownloadError(
            f"Overpass download from {overpass_url} failed ({reason}); check the internet "
            "connection or retry later, or pass a local .osm.pbf with --osm"
        ) from exc
    _check_response(data, overpass_url)
    _write_atomic(path, data)
    return path
