"""Plan scenarios: the city as it is (baseline) plus the plan's layers, checked side by side.

A :class:`Scenario` is a list of changes to a baseline :class:`~geoplan.City`: add parks,
facilities, bus stops, roads / paths (they join the walk network, :mod:`geoplan.network.edit`,
and count in 路网密度 with their grade), residential parcels (with residents where known); remove
existing features by OSM id, inside a polygon, or all of a kind. :meth:`Scenario.apply` returns a
new City (the baseline is never modified); :meth:`Scenario.run` checks baseline and plan against a
target sheet and compares them (:class:`ScenarioResult`): scorecards side by side with deltas,
``count_added`` targets from the features added, per-home "newly covered" flags, a table per unit
(街道 / 社区 polygons or a grid), a change map. :class:`ScenarioSession` keeps the baseline and an
:class:`~geoplan.scoring.check.AccessCache` so that editing one layer recomputes only what it
changed.

Scenarios are Python (this API) or declarative YAML files (:func:`load_scenario_file`)::

    name: chengdu_pocket_parks
    city: {osm: ../shared/data/chengdu_2018_center.osm.pbf,
           boundary: [104.0421, 30.6528, 104.1296, 30.7279]}
    targets: xinxiang-gxq-2019
    changes:
      - {add: parks, layer: layers/chengdu_pocket_parks.geojson, coord_system: gcj02}
      - {remove: bus_stops, all: true}

>>> from geoplan.scenario import Scenario
>>> s = Scenario("more_parks").add_parks("layers/demo_parks.geojson")    # doctest: +SKIP
>>> result = run_scenario(s, geoplan.load_city("demo"), sheet="xinxiang-gxq-2019")  # doctest: +SKIP
>>> result.scorecard[["target_id", "measured_baseline", "measured_plan"]]  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from shapely.geometry.base import BaseGeometry

from geoplan._errors import ScenarioError, unknown_message
from geoplan.city import City, Study
from geoplan.scenario.changes import (
    COORD_SYSTEMS,
    REMOVE_KINDS,
    Change,
    ChangeLog,
    CoordSystem,
    LayerLike,
    apply_changes,
    where_of,
)
from geoplan.scoring.targets import TargetSheet

#: numeric scenario parameters, declared in the registry's data file (``_scenario`` group)
PARAM_NAMES: tuple[str, ...] = ("snap_m", "grid_m")


def check_range(key: str, value: Any, where: str) -> float:
    """A numeric scenario parameter as float, or a one-line error with its range and unit.

    Parameters
    ----------
    key
        A parameter of the ``_scenario`` group (``snap_m``, ``grid_m``).
    value
        The value given.
    where
        The file or call, for the message.

    Returns
    -------
    float
    """
    from geoplan.indicators.registry import group_param

    p = group_param("scenario", key)
    what = p.source.removeprefix("geoplan: ")
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise ScenarioError(f"{where}: {key} must be a number in {p.unit} ({what}), got {value!r}")
    if not p.minimum <= float(value) <= p.maximum:
        raise ScenarioError(
            f"{where}: {key} = {value:g} {p.unit} is out of range [{p.minimum:g}, "
            f"{p.maximum:g}] {p.unit} ({what})"
        )
    return float(value)


class Scenario:
    """A baseline city plus changes. Methods return the scenario, so calls chain.

    Parameters
    ----------
    name
        Scenario name (file names of the outputs).
    base
        The baseline: a loaded :class:`~geoplan.City`, a :class:`~geoplan.city.Study`, or a
        mapping of its fields. Optional when the city is passed to :meth:`apply` / :meth:`run`.
    targets
        Target sheet id (``"zhengzhou-zhongyuan-2019"`` …) used by :meth:`run` by default.
    units
        Units for the per-unit table: a polygon layer (街道 / 社区, any format
        :func:`~geoplan.io.plan_layers.read_plan_layer` reads) or ``None`` for a square grid of
        ``grid_m`` metres.
    units_name_column
        Name column of ``units``.
    grid_m
        Side (m) of the square units when no ``units`` are given.
    description
        Free text (what the plan is), kept with the outputs.
    """

    def __init__(
        self,
        name: str,
        *,
        base: City | Study | Mapping[str, Any] | None = None,
        targets: str | TargetSheet = "national",
        units: LayerLike | None = None,
        units_name_column: str | None = None,
        grid_m: float = 500.0,
        description: str = "",
    ) -> None:
        self.name = name
        self.base = Study(**base) if isinstance(base, Mapping) else base
        self.targets = targets
        self.units = units
        self.units_name_column = units_name_column
        self.grid_m = check_range("grid_m", grid_m, f"scenario {name!r}")
        self.description = description
        self.changes: list[Change] = []
        self.source: Path | None = None
        self.layer_notes: list[str] = []
        #: the city a change's layer is compared with for an undeclared GCJ-02 offset
        self.reference: City | None = None

    def __repr__(self) -> str:
        """Name, targets and changes, one line.

        Returns
        -------
        str
        """
        return f"Scenario({self.name!r}, {len(self.changes)} changes)"

    # ---- building ---------------------------------------------------------------------------

    def _add(self, op: Literal["add", "remove"], kind: str, layer: Any, **params: Any) -> Scenario:
        where = f"scenario {self.name!r}, change {len(self.changes) + 1} ({op} {kind})"
        cs = params.get("coord_system")
        if cs is not None and cs not in COORD_SYSTEMS:
            low = str(cs).lower().replace("-", "").replace("_", "")
            hint = f"did you mean {low!r}? " if low in COORD_SYSTEMS else ""
            raise ScenarioError(
                f"{where}: unknown coord_system {cs!r}; {hint}valid: {', '.join(COORD_SYSTEMS)}"
            )
        for key in PARAM_NAMES:
            if params.get(key) is not None:
                params[key] = check_range(key, params[key], where)
        self.changes.append(Change(op, kind, layer, params))
        return self

    def add_parks(
        self,
        layer: LayerLike,
        *,
        green_kind: Literal["park", "green"] = "park",
        name_column: str | None = None,
        coord_system: CoordSystem | None = None,
        crs: str | int | None = None,
    ) -> Scenario:
        """Add public green polygons.

        ``green_kind`` "park" (公园) or "green" (other 绿地). A ``green_kind`` column in the layer
        wins per feature. ``area_m2`` is computed in the city's metric CRS.

        Parameters
        ----------
        layer
            A vector file (any CRS and coordinate system), ``path::layer``, a GeoDataFrame or a
            :class:`~geoplan.io.plan_layers.PlanLayer`.
        green_kind
            ``park`` or ``green``.
        name_column
            Column holding the names.
        coord_system
            ``wgs84``, ``gcj02`` (AMap) or ``bd09`` (Baidu) for lon / lat layers; default: checked.
        crs
            The layer's CRS when its file does not say it (a CAD export).

        Returns
        -------
        Scenario
            This scenario (calls chain).
        """
        return self._add(
            "add",
            "parks",
            layer,
            green_kind=green_kind,
            name_column=name_column,
            coord_system=coord_system,
            crs=crs,
        )

    def add_facilities(
        self,
        layer: LayerLike,
        *,
        category: str,
        name_column: str | None = None,
        coord_system: CoordSystem | None = None,
        crs: str | int | None = None,
    ) -> Scenario:
        """Add facilities of a life-circle ``category`` (``clinic``, ``primary_school`` …).

        Parameters
        ----------
        layer
            A vector file (any CRS and coordinate system), ``path::layer``, a GeoDataFrame or a
            :class:`~geoplan.io.plan_layers.PlanLayer`.
        category
            A facility category of the taxonomy.
        name_column
            Column holding the names.
        coord_system
            ``wgs84``, ``gcj02`` (AMap) or ``bd09`` (Baidu) for lon / lat layers; default: checked.
        crs
            The layer's CRS when its file does not say it (a CAD export).

        Returns
        -------
        Scenario
            This scenario (calls chain).
        """
        return self._add(
            "add",
            "facilities",
            layer,
            category=category,
            name_column=name_column,
            coord_system=coord_system,
            crs=crs,
        )

    def add_bus_stops(
        self,
        layer: LayerLike,
        *,
        name_column: str | None = None,
        coord_system: CoordSystem | None = None,
        crs: str | int | None = None,
    ) -> Scenario:
        """Add bus stops (points; polygons become their representative point).

        Parameters
        ----------
        layer
            A vector file (any CRS and coordinate system), ``path::layer``, a GeoDataFrame or a
            :class:`~geoplan.io.plan_layers.PlanLayer`.
        name_column
            Column holding the names.
        coord_system
            ``wgs84``, ``gcj02`` (AMap) or ``bd09`` (Baidu) for lon / lat layers; default: checked.
        crs
            The layer's CRS when its file does not say it (a CAD export).

        Returns
        -------
        Scenario
            This scenario (calls chain).
        """
        return self._add(
            "add",
            "bus_stops",
            layer,
            name_column=name_column,
            coord_system=coord_system,
            crs=crs,
        )

    def add_roads(
        self,
        layer: LayerLike,
        *,
        highway: str = "residential",
        snap_m: float = 5.0,
        name_column: str | None = None,
        coord_system: CoordSystem | None = None,
        crs: str | int | None = None,
    ) -> Scenario:
        """Add roads (OSM ``highway`` value → grade, ``road_grades.yaml``).

        They count in road density with that grade and, when walkable, join the walk network
        (vertices within ``snap_m`` metres of it snap; crossings split edges). A ``highway`` column
        wins.

        Parameters
        ----------
        layer
            A vector file (any CRS and coordinate system), ``path::layer``, a GeoDataFrame or a
            :class:`~geoplan.io.plan_layers.PlanLayer`.
        highway
            OSM ``highway`` value of the new roads (their grade).
        snap_m
            Vertices this close (m) to the network join it.
        name_column
            Column holding the names (a road drawn in pieces with one name counts once).
        coord_system
            ``wgs84``, ``gcj02`` (AMap) or ``bd09`` (Baidu) for lon / lat layers; default: checked.
        crs
            The layer's CRS when its file does not say it (a CAD export).

        Returns
        -------
        Scenario
            This scenario (calls chain).
        """
        return self._add(
            "add",
            "roads",
            layer,
            highway=highway,
            snap_m=snap_m,
            name_column=name_column,
            coord_system=coord_system,
            crs=crs,
        )

    def add_paths(
        self,
        layer: LayerLike,
        *,
        highway: str = "footway",
        snap_m: float = 5.0,
        coord_system: CoordSystem | None = None,
        crs: str | int | None = None,
    ) -> Scenario:
        """Add walking paths: they join the walk network but are not roads (no density).

        Parameters
        ----------
        layer
            A vector file (any CRS and coordinate system), ``path::layer``, a GeoDataFrame or a
            :class:`~geoplan.io.plan_layers.PlanLayer`.
        highway
            OSM ``highway`` value of the paths.
        snap_m
            Vertices this close (m) to the network join it.
        coord_system
            ``wgs84``, ``gcj02`` (AMap) or ``bd09`` (Baidu) for lon / lat layers; default: checked.
        crs
            The layer's CRS when its file does not say it (a CAD export).

        Returns
        -------
        Scenario
            This scenario (calls chain).
        """
        return self._add(
            "add",
            "paths",
            layer,
            highway=highway,
            snap_m=snap_m,
            coord_system=coord_system,
            crs=crs,
        )

    def add_residential(
        self,
        layer: LayerLike,
        *,
        residents_column: str | None = None,
        name_column: str | None = None,
        coord_system: CoordSystem | None = None,
        crs: str | int | None = None,
    ) -> Scenario:
        """Add residential parcels (居住用地).

        Homes are sampled in them. With ``residents_column`` their residents are shared equally
        among their homes.

        Parameters
        ----------
        layer
            A vector file (any CRS and coordinate system), ``path::layer``, a GeoDataFrame or a
            :class:`~geoplan.io.plan_layers.PlanLayer`.
        residents_column
            Column holding each parcel's residents.
        name_column
            Column holding the names.
        coord_system
            ``wgs84``, ``gcj02`` (AMap) or ``bd09`` (Baidu) for lon / lat layers; default: checked.
        crs
            The layer's CRS when its file does not say it (a CAD export).

        Returns
        -------
        Scenario
            This scenario (calls chain).
        """
        return self._add(
            "add",
            "residential",
            layer,
            residents_column=residents_column,
            name_column=name_column,
            coord_system=coord_system,
            crs=crs,
        )

    def remove(
        self,
        kind: str,
        *,
        ids: Sequence[int] | None = None,
        within: LayerLike | BaseGeometry | tuple[float, ...] | None = None,
        all: bool = False,
        category: str | None = None,
    ) -> Scenario:
        """Close / remove existing features of ``kind`` (one of :data:`REMOVE_KINDS`).

        By OSM id (``ids``), those whose representative point lies inside ``within`` (a polygon
        layer, a WGS84 shapely polygon or a lon/lat bbox), or ``all``. ``category`` narrows
        facilities. Removed roads also leave the walk network (edges of those ways).

        Parameters
        ----------
        kind
            One of :data:`REMOVE_KINDS`.
        ids
            OSM ids.
        within
            A polygon layer, a WGS84 polygon or a lon / lat bbox.
        all
            Every feature of ``kind``.
        category
            Narrows facilities to one category.

        Returns
        -------
        Scenario
            This scenario (calls chain).
        """
        if kind not in REMOVE_KINDS:
            raise ScenarioError(
                unknown_message("remove kind", kind, REMOVE_KINDS, "in Scenario.remove")
            )
        if sum(x is not None and x is not False for x in (ids, within, all or None)) != 1:
            raise ScenarioError(
                f"Scenario.remove({kind!r}): give exactly one of ids=, within= or all=True"
            )
        return self._add("remove", kind, None, ids=ids, within=within, all=all, category=category)

    # ---- applying ---------------------------------------------------------------------------

    def apply(self, city: City) -> City:
        """A new City with the changes applied; ``city`` is not modified.

        Parameters
        ----------
        city
            The baseline city (not modified).

        Returns
        -------
        City
            The plan city.
        """
        return self.apply_with_log(city)[0]

    def apply_with_log(self, city: City) -> tuple[City, ChangeLog]:
        """:meth:`apply`, and what was added and removed (:class:`ChangeLog`).

        Parameters
        ----------
        city
            The baseline city (not modified).

        Returns
        -------
        tuple
            ``(plan city, ChangeLog)``.
        """
        self.reference = city
        return apply_changes(self, city)

    def _where(self) -> str:
        return where_of(self)

    def resolve(self, p: str | Path) -> Path:
        """A layer path resolved against the scenario file (see :func:`resolve_path`).

        Parameters
        ----------
        p
            A path as the scenario gives it.

        Returns
        -------
        Path
        """
        return resolve_path(p, self.source)

    # ---- running ----------------------------------------------------------------------------

    def load_base(self) -> City:
        """The baseline city (loads a :class:`~geoplan.city.Study`).

        Returns
        -------
        City
        """
        if isinstance(self.base, City):
            return self.base
        if isinstance(self.base, Study):
            return self.base.load(progress=False)
        raise ScenarioError(f"{self._where()}no base city: pass base= or a City to run()")


def resolve_path(p: str | Path, source: Path | None) -> Path:
    """A layer path.

    Absolute; else relative to the scenario file's folder, its parent (the project), or the working
    directory — the first that exists.

    Parameters
    ----------
    p
        A path as given.
    source
        The scenario file it is relative to.

    Returns
    -------
    Path
    """
    path = Path(p)
    if path.is_absolute():
        return path
    tries = [path]
    if source is not None:
        tries = [source.parent / path, source.parent.parent / path, path]
    for t in tries:
        if t.exists():
            return t
    return tries[0]
