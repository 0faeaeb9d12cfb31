"""A :class:`Study`: every input of a check ("this city, these inputs"), validated once.

``geoplan check`` / ``report`` / ``suggest`` / ``map`` build one from their options
(:func:`geoplan.cli.options.study_from_options`), a batch place is a Study plus a name, a target
sheet and a map (:class:`geoplan.batch.spec.Place`), and a scenario's baseline is a Study
(:class:`geoplan.scenario.Scenario`). An input added here is therefore available everywhere.

>>> from geoplan.city import Study
>>> study = Study(osm="demo")
>>> study.input_files()
[]
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
from shapely.geometry.base import BaseGeometry

from geoplan._errors import GeoplanError, InputFileError
from geoplan.city.model import City, load_city
from geoplan.city.units import GRID_RANGE_M, areas_layer, units_layer
from geoplan.io.osm_files import check_osm_path

if TYPE_CHECKING:  # pragma: no cover - types only
    import geoplan

__all__ = ["BUILT_UP_WORDS", "Study", "StudyError"]

#: values of ``built_up`` that are not files
BUILT_UP_WORDS = ("osm", "study-area", "study_area")
POPULATION_KINDS = ("auto", "census", "cells")
FACILITIES_MODES = ("auto", "replace", "merge")
RASTER_SUFFIXES = (".tif", ".tiff")

Bbox = tuple[float, float, float, float]


#: a city or place name that can name output files: letters, 汉字, digits, ``_ - .``
NAME_PATTERN = re.compile(r"^[\w\-.\u4e00-\u9fff]+$")


#: longest name (UTF-8 bytes) that still leaves room in a file name for "_<sheet>_scorecard.xlsx"
NAME_MAX_BYTES = 120


def check_name(name: str, what: str) -> None:
    """Refuse a city / place / plan name that cannot name output files, in one line.

    Folder-safe characters only (letters, 汉字, digits, ``_ - .``; not only dots) and at most
    :data:`NAME_MAX_BYTES` bytes (file names hold 255: the sheet id and suffix need the rest).

    Parameters
    ----------
    name
        The name given.
    what
        The option or key that gave it (``--name``, ``name``), for the message.

    Raises
    ------
    StudyError
        With the fix.
    """
    if not NAME_PATTERN.match(name) or set(name) <= {"."}:
        raise StudyError(
            f"{what} {name!r} must be folder-safe (letters, 汉字, digits, _ - .): it names the "
            "output files; write e.g. 郑州市中原区"
        )
    n = len(name.encode("utf-8"))
    if n > NAME_MAX_BYTES:
        raise StudyError(
            f"{what} is {n} bytes long; output file names allow {NAME_MAX_BYTES} for it "
            f"(about {NAME_MAX_BYTES // 3} 汉字): shorten it, e.g. {name[:12]!r}"
        )


class StudyError(GeoplanError, ValueError):
    """The inputs of a study contradict each other or are out of range (one line, with the fix)."""


def _path(value: str | Path | None) -> Path | None:
    return None if value is None else Path(value)


@dataclass(frozen=True)
class Study:
    """Every input of a check, validated once.

    Attributes
    ----------
    osm
        OSM extract (``.osm.pbf`` / ``.osm`` / ``.osm.bz2`` / ``.osm.gz``, WGS84), or ``"demo"``
        (the embedded Helsinki extract).
    boundary
        Study area: a vector file, or a ``(min_lon, min_lat, max_lon, max_lat)`` bbox in WGS84
        degrees. Not together with ``district``.
    district
        Study area = a district, offline (``郑州市中原区`` or an adcode ``410102``).
    crs
        Metric CRS of every layer (EPSG code, e.g. ``4547``); default: the UTM zone.
    name
        Name of the city (default: the OSM file name).
    include_private
        Walk through gated compounds (``access=private``).
    population
        Population: points / cells or 街道 / 社区 census polygons (vector or CSV), or a
        WorldPop / GHSL GeoTIFF (residents per pixel).
    population_column
        Residents column of a vector ``population``.
    population_kind
        ``auto``, ``census`` (polygons spread over homes) or ``cells`` (each feature a home).
    facilities
        AMap / Baidu POI exports.
    facilities_mode
        Per category: ``auto`` (replace the OSM facilities where the exports hold at least as
        many, else merge), ``replace`` or ``merge`` (:func:`geoplan.city.pois.with_pois`).
    built_up
        建成区 / 中心城区: a polygon file, ``"osm"`` (derived from OSM, the default) or
        ``"study-area"``.
    landcover
        Land-cover (ESA WorldCover classes) or NDVI GeoTIFF for 绿化覆盖率.
    units
        街道 / 社区 polygons for the per-unit table. Not together with ``units_grid``.
    unit_name
        Name column of ``units``.
    units_grid
        Per-unit table over square cells of this side (m, 50–5000).
    scope
        The kind of study area: ``city`` (default) or ``town`` (镇区); a sheet's targets that
        apply to the other kind are "no data".
    areas
        Named parts of the study area (老城区, 振中街道 …; a polygon file whose ``name`` column
        names them) for the targets a sheet restricts to one (``area:``).
    compounds
        ``gates`` (default): homes inside a gated compound (小区) leave it by its entrances;
        ``edges``: every home walks straight to its nearest street.
    compounds_file
        小区 outlines (polygons) and their 出入口 (points) in one vector file, e.g. an AMap /
        Baidu AOI export (:func:`geoplan.io.compounds.read_compounds`); default: the walled
        residential parcels mapped in OSM.
    compounds_coords
        Coordinate system of ``compounds_file``: ``wgs84``, ``gcj02`` (AMap) or ``bd09`` (Baidu).
    exact_areas
        Buffer shares by overlaying the unions (``True``), on land cells (``False``, within
        0.1 pp), or exact unless the city is large (``None``; :func:`geoplan.check_city`).

    Raises
    ------
    StudyError
        At construction, for inputs that contradict each other or are out of range. Missing
        files are reported by :meth:`check_files` (called by :meth:`load`), so a batch can be
        read before its files exist.
    """

    osm: str = "demo"
    boundary: Path | Bbox | None = None
    district: str | None = None
    crs: str | None = None
    name: str | None = None
    include_private: bool = False
    population: Path | None = None
    population_column: str = "population"
    population_kind: Literal["auto", "census", "cells"] = "auto"
    facilities: tuple[Path, ...] = ()
    facilities_mode: Literal["auto", "replace", "merge"] = "auto"
    built_up: str | Path | None = "osm"
    landcover: Path | None = None
    units: Path | None = None
    unit_name: str | None = None
    units_grid: float | None = None
    scope: Literal["city", "town"] = "city"
    areas: Path | None = None
    compounds: Literal["gates", "edges"] = "gates"
    compounds_file: Path | None = None
    compounds_coords: Literal["wgs84", "gcj02", "bd09"] = "wgs84"
    exact_areas: bool | None = None

    def __post_init__(self) -> None:
        """Normalise the inputs (paths, bbox, CRS as text) and check that they agree."""
        set_ = object.__setattr__  # normalise once, so equal inputs give equal studies
        set_(self, "osm", str(self.osm))
        if isinstance(self.boundary, list | tuple):
            if len(self.boundary) != 4 or not all(
                isinstance(v, int | float) for v in self.boundary
            ):
                raise StudyError("boundary must be [min_lon, min_lat, max_lon, max_lat] or a file")
            set_(self, "boundary", tuple(float(v) for v in self.boundary))
        elif self.boundary is not None:
            set_(self, "boundary", Path(self.boundary))
        if self.crs is not None:
            set_(self, "crs", str(self.crs))
        for key in ("population", "landcover", "units", "areas", "compounds_file"):
            set_(self, key, _path(getattr(self, key)))
        if self.name is not None:
            check_name(self.name, "name")
        set_(self, "facilities", tuple(Path(f) for f in self.facilities))
        built = "osm" if self.built_up is None else self.built_up
        set_(self, "built_up", str(built) if str(built) in BUILT_UP_WORDS else Path(built))
        self._check_choices()

    def _check_choices(self) -> None:
        if self.boundary is not None and self.district is not None:
            raise StudyError("give --boundary FILE or --district NAME, not both")
        if self.population_kind not in POPULATION_KINDS:
            raise StudyError(
                f"population kind must be auto, census or cells, not {self.population_kind!r}"
            )
        if self.facilities_mode not in FACILITIES_MODES:
            raise StudyError(
                f"--facilities-mode must be auto, replace or merge, not {self.facilities_mode!r}"
            )
        if self.units is not None and self.units_grid is not None:
            raise StudyError("give --units FILE or --units-grid M, not both")
        if self.scope not in ("city", "town"):
            raise StudyError(f"--scope must be city or town, not {self.scope!r}")
        if self.compounds not in ("gates", "edges"):
            raise StudyError(f"--compounds must be gates or edges, not {self.compounds!r}")
        if self.compounds_coords not in ("wgs84", "gcj02", "bd09"):
            raise StudyError(
                f"--compounds-coords must be wgs84, gcj02 or bd09, not {self.compounds_coords!r}"
            )
        lo, hi = GRID_RANGE_M
        if self.units_grid is not None and not lo <= self.units_grid <= hi:
            raise StudyError(
                f"--units-grid {self.units_grid:g} m is out of range [{lo:g}, {hi:g}] m"
            )

    # ------------------------------------------------------------------ inputs
    @property
    def population_raster(self) -> Path | None:
        """``population`` when it is a GeoTIFF (read pixel by pixel), else ``None``."""
        p = self.population
        return p if p is not None and p.suffix.lower() in RASTER_SUFFIXES else None

    @property
    def built_up_file(self) -> Path | None:
        """The 建成区 polygon file, or ``None`` for ``osm`` / ``study-area``."""
        return self.built_up if isinstance(self.built_up, Path) else None

    def input_files(self) -> list[Path]:
        """Every input file of the study.

        Returns
        -------
        list of Path
            The OSM extract (unless ``demo``), boundary, population, built-up, land cover, units
            and POI files given.
        """
        files: list[Path | None] = [
            None if self.osm == "demo" else Path(self.osm),
            self.boundary if isinstance(self.boundary, Path) else None,
            self.population,
            self.built_up_file,
            self.landcover,
            self.units,
            self.areas,
            self.compounds_file,
            *self.facilities,
        ]
        return [f for f in files if f is not None]

    def input_roles(self) -> dict[str, Path]:
        """The input files by role, for the provenance record.

        Returns
        -------
        dict of str to Path
            ``boundary``, ``population``, ``landcover``, ``built_up``, ``units``,
            ``facilities_1`` … (only those given).
        """
        roles: dict[str, Path | None] = {
            "boundary": self.boundary if isinstance(self.boundary, Path) else None,
            "population": self.population,
            "landcover": self.landcover,
            "built_up": self.built_up_file,
            "units": self.units,
            "areas": self.areas,
            "compounds": self.compounds_file,
            **{f"facilities_{i + 1}": f for i, f in enumerate(self.facilities)},
        }
        return {k: v for k, v in roles.items() if v is not None}

    def check_files(self) -> None:
        """Raise :class:`~geoplan.InputFileError` naming the first input file that is missing."""
        if self.osm != "demo":
            check_osm_path(self.osm)
        what = {
            "boundary": "boundary file",
            "population": "--population file",
            "built_up": "--built-up file",
            "landcover": "--landcover raster",
            "units": "--units file",
            "compounds_file": "--compounds-file",
        }
        fix = {
            "built_up": "; give a 建成区 polygon file, 'osm' (derived, the default) or "
            "'study-area'",
            "landcover": "; pass a GeoTIFF",
        }
        for key, label in what.items():
            p = getattr(self, key)
            if isinstance(p, Path) and not p.exists():
                raise InputFileError(f"{p}: {label} not found{fix.get(key, '')}")
        for f in self.facilities:
            if not f.exists():
                raise InputFileError(f"{f}: POI export not found (facilities); check the path")

    def city_block(self) -> dict[str, Any]:
        """The ``city:`` mapping of a scenario file that loads this study again.

        The OSM source, a boundary file or bbox, CRS, private access and POI exports (a district
        is written by the caller as a boundary file beside the scenario).

        Returns
        -------
        dict
            Plain YAML-ready values (paths as text).
        """
        out: dict[str, Any] = {"osm": self.osm}
        if isinstance(self.boundary, Path):
            out["boundary"] = str(self.boundary)
        elif self.boundary is not None:
            out["boundary"] = list(self.boundary)
        if self.crs is not None:
            out["crs"] = self.crs
        if self.include_private:
            out["include_private"] = True
        if self.facilities:
            out["facilities"] = [str(f) for f in self.facilities]
            out["facilities_mode"] = self.facilities_mode
        return out

    def replace(self, **changes: Any) -> Study:
        """A copy with some inputs changed (validated again).

        Parameters
        ----------
        **changes
            Fields of the study and their new values.

        Returns
        -------
        Study
        """
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------------ loading
    def study_area(self) -> Path | Bbox | BaseGeometry | None:
        """The study area as :func:`~geoplan.city.load_city` takes it.

        Returns
        -------
        Path, bbox, shapely geometry or None
            The boundary file or lon/lat bbox; a district's polygon (WGS84, read offline);
            ``None`` for the extent of the data.
        """
        if self.district is None:
            return self.boundary
        from geoplan.io.districts import district_boundary

        return district_boundary(self.district)

    def load(self, *, progress: bool | None = None) -> City:
        """Load the city: OSM layers in the study area, then the POI exports.

        Parameters
        ----------
        progress
            Show a progress bar (default: only on a terminal).

        Returns
        -------
        City
            In its metric CRS; the POI exports' summaries are in ``city.report.notes``.
        """
        self.check_files()
        crs: str | int | None = self.crs
        if self.crs is not None and self.crs.isdigit():
            crs = int(self.crs)
        city = load_city(
            self.osm,
            boundary=self.study_area(),
            crs=crs,
            include_private=self.include_private,
            name=self.name,
            progress=progress,
        )
        if self.district is not None:
            from geoplan.io.districts import find_district

            city = dataclasses.replace(city, district=find_district(self.district)[0])
        if self.facilities:
            from geoplan.city.pois import with_pois

            city, reports = with_pois(city, list(self.facilities), mode=self.facilities_mode)
            city.report.notes.extend(r.summary() for r in reports)
        if self.compounds_file is not None:
            from geoplan.io.compounds import read_compounds

            comp = read_compounds(self.compounds_file, city.crs, coord_system=self.compounds_coords)
            city = dataclasses.replace(city, compounds=comp)
        return city

    def homes(self, city: City, *, spacing_m: float = 50.0) -> gpd.GeoDataFrame:
        """The homes a check of this study measures from (with residents when known).

        Parameters
        ----------
        city
            The study's city (:meth:`load`).
        spacing_m
            Sample spacing (m) in residential parcels without mapped buildings.

        Returns
        -------
        GeoDataFrame
            Points in ``city.crs`` (:func:`geoplan.city.population.check_homes`).
        """
        from geoplan.city.population import check_homes

        return check_homes(
            city,
            population=self.population_layer(),
            population_column=self.population_column,
            population_kind=self.population_kind,
            population_raster=self.population_raster,
            home_spacing_m=spacing_m,
        )

    def built_up_area(self, city: City) -> BaseGeometry | Literal["osm", "study_area"]:
        """The area of the area-based figures, as :func:`geoplan.check_city` takes it.

        Parameters
        ----------
        city
            The study's city (its metric CRS).

        Returns
        -------
        shapely geometry or str
            The 建成区 polygon in ``city.crs`` (read from its file), ``"osm"`` or
            ``"study_area"``.
        """
        if self.built_up_file is None:
            return "study_area" if self.built_up in ("study-area", "study_area") else "osm"
        from geoplan.io.boundary import read_area

        return read_area(self.built_up_file, city.crs)

    def units_layer(self, city: City) -> gpd.GeoDataFrame | None:
        """The units of the per-unit table.

        Parameters
        ----------
        city
            The study's city (its metric CRS and study area).

        Returns
        -------
        GeoDataFrame or None
            ``unit`` and polygons in ``city.crs``; ``None`` when no units were given.
        """
        if self.units is None and self.units_grid is None:
            return None
        return units_layer(city, self.units, self.unit_name, self.units_grid)

    def population_layer(self) -> gpd.GeoDataFrame | None:
        """The vector population layer (``--population`` unless it is a raster), as read.

        Returns
        -------
        GeoDataFrame or None
            Points, cells or census polygons with the residents column; ``None`` without one.
        """
        from geoplan.io.population import read_population

        if self.population is None or self.population_raster is not None:
            return None
        return read_population(self.population, column=self.population_column)

    def areas_layer(self, city: City) -> gpd.GeoDataFrame | None:
        """The named parts of the study area (``--areas``).

        Parameters
        ----------
        city
            The study's city (its metric CRS).

        Returns
        -------
        GeoDataFrame or None
            ``unit`` (the name) and polygons in ``city.crs``; ``None`` when not given.
        """
        if self.areas is None:
            return None
        return areas_layer(city, self.areas)

    def check(
        self, sheet: str | geoplan.TargetSheet, *, city: City | None = None
    ) -> geoplan.CheckResult:
        """Check the study against a target sheet (:func:`geoplan.check_city`).

        Parameters
        ----------
        sheet
            Target sheet id or file, or a loaded :class:`~geoplan.TargetSheet`.
        city
            The study's city when already loaded (default: :meth:`load`).

        Returns
        -------
        CheckResult
            With the units it was measured with (``units``), the homes' seconds included.
        """
        import geoplan  # the public face: the check stage stands above the City stage

        city = city if city is not None else self.load(progress=False)
        return geoplan.check_city(
            city,
            sheet=sheet,
            population=self.population_layer(),
            population_column=self.population_column,
            population_kind=self.population_kind,
            population_raster=self.population_raster,
            landcover=self.landcover,
            built_up=self.built_up_area(city),
            units=self.units_layer(city),
            scope=self.scope,
            areas=self.areas_layer(city),
            compounds=self.compounds,
            exact_areas=self.exact_areas,
        )
