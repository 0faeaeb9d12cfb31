"""A buffer coverage as facilities and radii: its shares, home flags and (lazily) its geometry.

The buffer method asks three things of a coverage area: the share of an area inside it (land,
built-up area), whether each home lies in it, and its polygon for maps and gap layers. A
:class:`Buffers` keeps what the area is made of — the intersection of unions of buffers, each a
set of facilities and their radii — and answers each question the cheapest way the chosen
method allows:

- ``exact`` (``check --exact-areas``, and small cities by default): the union of the buffers is
  overlaid on the area (:mod:`geoplan.indicators.areas`), as before;
- ``cells``: where a union has :data:`CELLS_MIN_SOURCES` facilities or more (the unions that
  take seconds to minutes), shares from land cells (:mod:`geoplan.indicators.cells`, ≤ 0.1 pp
  from the exact overlay, tested), home flags from distances (identical to the exact flags),
  and the polygon only when a map, a gap layer or a per-unit table asks for it; smaller unions
  are overlaid as in ``exact``.

:class:`CoverageAreas` holds the coverage areas of a check by key and computes a lazy one on first
use, so a check that draws no map never builds the unions it does not draw.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

import geopandas as gpd
import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from geoplan.indicators.areas import overlap_area, union_of_buffers
from geoplan.indicators.cells import covered_cells, inside_buffers, land_cells
from geoplan.indicators.grid import cells_polygon

F64 = NDArray[np.float64]
AreaMethod = Literal["exact", "cells"]

#: (geometries, radius m: one, or one per geometry)
Term = tuple[NDArray[np.object_], "float | F64"]

#: with the ``cells`` method, a coverage area whose unions all have fewer facilities than this
#: is still overlaid exactly (a union of a few thousand disks takes milliseconds; cells of a large
#: built-up area take longer)
CELLS_MIN_SOURCES = 5_000

_FLAGS: OrderedDict[tuple[str, str], NDArray[np.bool_]] = OrderedDict()


def _term_key(term: Term) -> str:
    g, r = term
    h = hashlib.sha1(usedforsecurity=False)
    if g.size:  # coordinates and structure (cheaper than WKB, which the unions hash anyway)
        h.update(shapely.get_coordinates(g).tobytes())
        for f in (shapely.get_type_id, shapely.get_num_coordinates, shapely.get_num_geometries):
            h.update(np.asarray(f(g), dtype=np.int64).tobytes())
        h.update(np.asarray(shapely.get_num_interior_rings(g), dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(np.broadcast_to(np.asarray(r, float), g.shape)).tobytes())
    return h.hexdigest()


def _points_key(x: F64, y: F64) -> str:
    h = hashlib.sha1(np.ascontiguousarray(x).tobytes(), usedforsecurity=False)
    h.update(np.ascontiguousarray(y).tobytes())
    return h.hexdigest()


#: the flags kept for re-use (scenario re-runs), at most this many bytes (a flag is a byte: a
#: city's million land cells times its categories and radii, and as many homes)
FLAGS_MAX_BYTES = 256 * 1024 * 1024


def _memo_flags(key: tuple[str, str], compute: object) -> NDArray[np.bool_]:
    got = _FLAGS.get(key)
    if got is None:
        got = compute()  # type: ignore[operator]
        _FLAGS[key] = got
        total = sum(v.nbytes for v in _FLAGS.values())
        while total > FLAGS_MAX_BYTES and len(_FLAGS) > 1:
            _, old = _FLAGS.popitem(last=False)
            total -= old.nbytes
    else:
        _FLAGS.move_to_end(key)
    return got


@dataclass(frozen=True, eq=False)
class Buffers:
    """A coverage area: the intersection of unions of straight-line buffers (metric CRS).

    Attributes
    ----------
    terms
        ``(geometries, radius m)`` per union; the area is their intersection.
    method
        ``exact`` (overlay the unions) or ``cells`` (land cells, distances; see the module).
    parts
        The two areas this one intersects (its polygon is built from theirs, in that order).
    """

    terms: tuple[Term, ...]
    method: AreaMethod = "exact"
    parts: tuple[Buffers, Buffers] | None = None
    _memo: dict[str, object] = field(default_factory=dict, repr=False)

    @classmethod
    def of(
        cls, geoms: NDArray[np.object_], radius_m: float | F64, *, method: AreaMethod = "exact"
    ) -> Buffers:
        """The union of ``radius_m`` buffers around ``geoms``.

        Parameters
        ----------
        geoms
            Facility geometries (metric CRS).
        radius_m
            One radius, or one per geometry (m).
        method
            ``exact`` or ``cells``.

        Returns
        -------
        Buffers
        """
        return cls(((np.asarray(geoms, dtype=object), radius_m),), method)

    def __and__(self, other: Buffers) -> Buffers:
        """The intersection of two coverage areas.

        Parameters
        ----------
        other
            Another coverage area (same method).

        Returns
        -------
        Buffers
        """
        return Buffers(self.terms + other.terms, self.method, (self, other))

    @property
    def on_cells(self) -> bool:
        """Whether shares are counted on land cells: the ``cells`` method and a large union.

        Returns
        -------
        bool
            ``cells`` method and a union with at least :data:`CELLS_MIN_SOURCES` facilities.
        """
        return self.method == "cells" and any(g.size >= CELLS_MIN_SOURCES for g, _ in self.terms)

    def _term_keys(self) -> list[str]:
        """Content keys of the terms, hashed once per area (shares and flags reuse them)."""
        keys = self._memo.get("keys")
        if keys is None:
            if self.parts is not None:  # an intersection: its parts' keys, hashed already
                keys = self.parts[0]._term_keys() + self.parts[1]._term_keys()
            else:
                keys = [_term_key(t) for t in self.terms]
            self._memo["keys"] = keys
        assert isinstance(keys, list)
        return keys

    @property
    def has_sources(self) -> bool:
        """Whether every union has a facility (else the area is certainly empty).

        Returns
        -------
        bool
        """
        return all(g.size for g, _ in self.terms)

    def geometry(self) -> BaseGeometry:
        """The polygon (computed once; unions memoised by content).

        Returns
        -------
        BaseGeometry
        """
        if "geom" not in self._memo:
            if self.parts is not None:
                out = shapely.intersection(self.parts[0].geometry(), self.parts[1].geometry())
            elif len(self.terms) == 1:
                out = union_of_buffers(*self.terms[0])
            else:
                out = shapely.Polygon()
            self._memo["geom"] = out
        geom = self._memo["geom"]
        assert isinstance(geom, BaseGeometry)
        return geom

    @property
    def is_empty(self) -> bool:
        """Whether the area is empty (the exact method, or a union without facilities).

        With the ``cells`` method an intersection of unions that each have facilities counts as
        not empty until its polygon is built (:class:`CoverageAreas` drops it then if empty).

        Returns
        -------
        bool
        """
        if not self.has_sources:
            return True
        if not self.on_cells:
            return bool(self.geometry().is_empty)
        return False

    def share(self, area: BaseGeometry) -> float | None:
        """Share of ``area`` inside the coverage area (``None`` if ``area`` has no area).

        Parameters
        ----------
        area
            Residential land, the built-up area … (metric CRS).

        Returns
        -------
        float or None
        """
        total = float(area.area)
        if total <= 0:
            return None
        if not self.on_cells:
            return overlap_area(area, self.geometry()) / total
        cells = land_cells(area, near=self._reach_boxes())
        if not cells.n_all:
            return overlap_area(area, self.geometry()) / total
        flags = np.ones(len(cells), dtype=bool)
        for t, k in zip(self.terms, self._term_keys(), strict=True):
            flags &= _memo_flags((k, cells.key), lambda t=t: covered_cells(cells, t[0], t[1]))
        # the cells not listed lie beyond every facility's reach: uncovered, counted in n_all
        return float(np.count_nonzero(flags)) / cells.n_all

    def _reach_boxes(self) -> F64:
        """Boxes (m) holding the whole area: a union's facility boxes grown by its radius.

        The area is the intersection of the unions, so the union of fewest facilities bounds it.
        """
        geoms, radius = min(self.terms, key=lambda t: t[0].shape[0])
        if not geoms.size:
            return np.zeros((0, 4))
        r = np.broadcast_to(np.asarray(radius, dtype=float), geoms.shape)[:, None] + 1.0
        return shapely.bounds(geoms) + np.hstack([-r, -r, r, r])

    def contains_xy(self, x: F64, y: F64) -> NDArray[np.bool_]:
        """Per point: inside the coverage area (the exact method's flags either way).

        Parameters
        ----------
        x, y
            Points (m, metric CRS).

        Returns
        -------
        ndarray of bool
        """
        if not self.on_cells or not self.has_sources:
            geom = self.geometry()
            if geom.is_empty or x.shape[0] == 0:
                return np.zeros(x.shape[0], dtype=bool)
            shapely.prepare(geom)
            return np.asarray(shapely.intersects_xy(geom, x, y), dtype=bool)
        pk = _points_key(x, y)
        out = np.ones(x.shape[0], dtype=bool)
        for t, k in zip(self.terms, self._term_keys(), strict=True):
            out &= _memo_flags((k, pk), lambda t=t: inside_buffers(x, y, t[0], t[1]))
        return out

    def inside(self, homes: gpd.GeoDataFrame) -> NDArray[np.bool_]:
        """Per home: its point lies in the coverage area.

        Parameters
        ----------
        homes
            Home points (metric CRS).

        Returns
        -------
        ndarray of bool
        """
        xy = shapely.get_coordinates(homes.geometry.values)
        return self.contains_xy(xy[:, 0], xy[:, 1])


@dataclass(frozen=True, eq=False)
class CellsArea:
    """The walking coverage of a grid as its covered cells; the polygon is built on first use.

    A check measures a network share on the grid's cells; the polygon of the covered cells
    (:func:`geoplan.indicators.grid.cells_polygon`) is for maps and the QGIS package only, so it
    is outlined when one of them asks (a sparse city's grids hold millions of cells).

    Attributes
    ----------
    ends
        The grid's first and last cell centre, ``[[x0, y0], [x1, y1]]`` (m, metric CRS).
    shape
        ``(rows, columns)`` of the grid.
    cells
        Row-major indices of the grid's listed cells (the grid's own array, not a copy).
    covered
        Which listed cells are covered, as bits (:func:`numpy.packbits`).
    spacing_m
        Cell side (m).
    boundary
        The study boundary the polygon is cut to (metric CRS).
    """

    ends: F64
    shape: tuple[int, int]
    cells: NDArray[np.int64]
    covered: NDArray[np.uint8]
    spacing_m: float
    boundary: BaseGeometry
    _memo: dict[str, BaseGeometry] = field(default_factory=dict, repr=False)

    @classmethod
    def of(
        cls,
        ends: F64,
        shape: tuple[int, int],
        cells: NDArray[np.int64],
        covered: NDArray[np.bool_],
        spacing_m: float,
        boundary: BaseGeometry,
    ) -> CellsArea:
        """The covered ones of a grid's listed cells.

        Parameters
        ----------
        ends
            The grid's first and last cell centre (m).
        shape
            ``(rows, columns)`` of the grid.
        cells
            Row-major indices of the listed cells.
        covered
            Per listed cell: covered.
        spacing_m
            Cell side (m).
        boundary
            The study boundary (metric CRS).

        Returns
        -------
        CellsArea
        """
        if covered.shape != cells.shape:
            raise ValueError(f"{covered.shape[0]} flags for {cells.shape[0]} cells")
        return cls(ends, shape, cells, np.packbits(covered), float(spacing_m), boundary)

    @property
    def is_empty(self) -> bool:
        """Whether no cell is covered.

        Returns
        -------
        bool
        """
        return not bool(self.covered.any())

    def geometry(self) -> BaseGeometry:
        """The covered cells as one (multi)polygon cut to the boundary (computed once).

        Returns
        -------
        BaseGeometry
        """
        if "geom" not in self._memo:
            flags = np.unpackbits(self.covered, count=self.cells.shape[0]).astype(bool)
            self._memo["geom"] = cells_polygon(
                self.ends, self.shape, self.cells[flags], self.spacing_m, self.boundary
            )
        return self._memo["geom"]


#: a coverage area as a check holds it: a polygon, or a :class:`Buffers` / :class:`CellsArea`
#: not built yet
Area: TypeAlias = BaseGeometry | Buffers | CellsArea


class CoverageAreas(Mapping[str, BaseGeometry]):
    """Coverage areas by key; a :class:`Buffers` becomes its polygon on first use.

    A key whose polygon turns out empty is not in the mapping (as the exact path never added
    one).

    Parameters
    ----------
    areas
        Key → polygon or :class:`Buffers`.
    """

    def __init__(self, areas: Mapping[str, Area] | None = None) -> None:
        self._areas: dict[str, Area] = dict(areas or {})

    def _resolve(self, key: str) -> BaseGeometry | None:
        a = self._areas[key]
        if isinstance(a, (Buffers, CellsArea)):
            g = a.geometry()
            if g.is_empty:
                del self._areas[key]
                return None
            self._areas[key] = g
            return g
        return a

    def __getitem__(self, key: str) -> BaseGeometry:
        """The polygon of ``key`` (built now if lazy).

        Parameters
        ----------
        key
            A coverage key.

        Returns
        -------
        BaseGeometry
        """
        if key not in self._areas:
            raise KeyError(key)
        g = self._resolve(key)
        if g is None:
            raise KeyError(key)
        return g

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` has a non-empty coverage area.

        Parameters
        ----------
        key
            A coverage key.

        Returns
        -------
        bool
        """
        if not isinstance(key, str) or key not in self._areas:
            return False
        a = self._areas[key]
        if isinstance(a, Buffers) and len(a.terms) > 1:
            return self._resolve(key) is not None
        if isinstance(a, CellsArea):  # its outline is empty exactly when no cell is covered
            return not a.is_empty
        return True

    def __iter__(self) -> Iterator[str]:
        """Keys (a lazy intersection is built to know whether it is empty).

        Returns
        -------
        iterator of str
        """
        return iter([k for k in list(self._areas) if k in self])

    def __len__(self) -> int:
        """Number of non-empty areas.

        Returns
        -------
        int
        """
        return sum(1 for _ in self)

    def drawn(self, keys: Collection[str]) -> dict[str, BaseGeometry]:
        """The areas already built, and of the unbuilt ones only those of ``keys`` (built now).

        What an output drawing every area writes with the ``cells`` method: the polygons it
        has, plus the ones a map shows, without building the unions of every other
        coverage area (a city's life-circle categories).

        Parameters
        ----------
        keys
            Coverage keys to build when not built yet.

        Returns
        -------
        dict of str to BaseGeometry
            Non-empty areas by key, in the order stored.
        """
        out: dict[str, BaseGeometry] = {}
        for k in list(self._areas):
            if k in self.unbuilt and k not in keys:
                continue
            if k in self:
                out[k] = self[k]
        return out

    @property
    def unbuilt(self) -> list[str]:
        """Keys whose polygon is not built and would be a union the check avoided.

        An exact area (or a small union on the ``cells`` method) counts as built: its polygon is
        the one the check measured, or costs milliseconds.

        Returns
        -------
        list of str
        """
        return [
            k
            for k, a in self._areas.items()
            if isinstance(a, Buffers) and a.on_cells and "geom" not in a._memo
        ]

    def raw(self) -> dict[str, Area]:
        """The areas as stored (polygons and unbuilt :class:`Buffers`).

        Returns
        -------
        dict
        """
        return dict(self._areas)


#: a city with at least this many facilities, bus stops and green spaces measures buffer
#: shares on land cells by default (the unions of their buffers take seconds to minutes)
AUTO_CELLS_FEATURES = 80_000


def area_method(city: object, exact_areas: bool | None) -> AreaMethod:
    """How a check measures buffer shares: ``exact_areas``, else by the size of the city.

    Parameters
    ----------
    city
        The loaded city (``facilities``, ``bus_stops``, ``parks``).
    exact_areas
        ``True``: ``exact``; ``False``: ``cells``; ``None``: ``cells`` when the city has at least
        :data:`AUTO_CELLS_FEATURES` facilities, bus stops and green spaces together.

    Returns
    -------
    str
        ``exact`` or ``cells``.
    """
    if exact_areas is not None:
        return "exact" if exact_areas else "cells"
    n = sum(len(getattr(city, k)) for k in ("facilities", "bus_stops", "parks"))
    return "cells" if n >= AUTO_CELLS_FEATURES else "exact"
