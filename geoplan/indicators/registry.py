"""The indicator registry: each indicator declared once, its parameters as data.

An :class:`Indicator` names its id, labels, the layers it reads (the key of its result cache),
its parameters (defaults, units, ranges and sources from ``data/indicators.yaml``), the source
sets it needs from the access stage, and one pure function ``f(access, inputs, params)`` whose
``params`` is the indicator's typed parameters object (``ParkParams`` …), built once per run
(:meth:`Indicator.build`) and handed to both the requests and the function.
A target sheet may override any parameter (``parameters:`` in the sheet); :func:`resolve_params`
refuses unknown names and out-of-range values with one line naming the sheet, the indicator and
the fix.

Examples
--------
>>> from geoplan.indicators.registry import REGISTRY, resolve_params
>>> REGISTRY["bus_stop_coverage"].params["radii_m"].default
(300.0, 500.0)
>>> resolve_params("park_coverage", {"park_min_area_m2": 10000})["park_min_area_m2"]
10000.0
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, TypeVar

import numpy as np

from geoplan._errors import TargetSheetError, unknown_message
from geoplan.indicators import bus, green_cover, life_circles, parks, roads
from geoplan.indicators.access import Access, Request, compute_access
from geoplan.indicators.coverage import IndicatorResult
from geoplan.indicators.inputs import Inputs
from geoplan.network.cache import AccessCache
from geoplan.rules.datafile import DATA_DIR, read_yaml

INDICATORS_PATH = DATA_DIR / "indicators.yaml"

Compute = Callable[..., IndicatorResult]
Requests = Callable[..., dict[str, Request]]


@dataclass(frozen=True)
class Param:
    """One parameter of an indicator.

    Attributes
    ----------
    name, default, unit, source
        Name, default value (``None`` = from another data file), unit and the clause or source
        the default comes from.
    minimum, maximum
        Allowed range of the value (of every number in it, for lists and tiers).
    shape
        ``scalar``, ``list`` (of numbers) or ``pairs`` (``[[a, b], …]``, e.g. park tiers).
    choices
        For a parameter that names an option rather than a number: the allowed names.
    """

    name: str
    default: Any
    unit: str
    minimum: float
    maximum: float
    source: str
    shape: str = "scalar"
    choices: tuple[str, ...] = ()

    def check(self, value: Any, where: str) -> Any:
        """The value as the indicator takes it (floats, tuples), or a one-line error.

        Parameters
        ----------
        value
            The value a sheet gives.
        where
            The sheet and indicator, for the message.

        Returns
        -------
        Any
        """
        if self.choices:
            if value not in self.choices:
                raise TargetSheetError(
                    f"{where}: {self.name} must be one of {', '.join(self.choices)}, "
                    f"not {value!r}; source of the default: {self.source}"
                )
            return value
        ok = {
            "scalar": not isinstance(value, list | tuple),
            "list": isinstance(value, list | tuple)
            and len(value) > 0
            and not any(isinstance(v, list | tuple) for v in value),
            "pairs": isinstance(value, list | tuple)
            and len(value) > 0
            and all(isinstance(v, list | tuple) and len(v) == 2 for v in value),
        }[self.shape]
        if not ok:
            example = {"scalar": "a number", "list": "[300, 500]", "pairs": "[[5000, 500]]"}
            raise TargetSheetError(
                f"{where}: {self.name} must be {example[self.shape]} ({self.unit}), not {value!r}"
            )
        numbers = list(_flatten(value))
        if not numbers and value is not None and value != []:
            raise TargetSheetError(f"{where}: {self.name} must be a number ({self.unit})")
        for v in numbers:
            if not isinstance(v, int | float) or isinstance(v, bool) or v != v:
                raise TargetSheetError(
                    f"{where}: {self.name} must be numbers in {self.unit}, not {value!r}"
                )
            if not self.minimum <= v <= self.maximum:
                raise TargetSheetError(
                    f"{where}: {self.name} = {v!r} is out of range [{self.minimum:g}, "
                    f"{self.maximum:g}] {self.unit}; source of the default: {self.source}"
                )
        return _freeze(value)


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return [x for v in value for x in _flatten(v)]
    return [] if value is None else [value]


def _freeze(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


@dataclass(frozen=True, slots=True)
class NoParams:
    """The parameters of an indicator that has none."""


@dataclass(frozen=True)
class Indicator:
    """One indicator of the engine.

    Attributes
    ----------
    id
        Registry id (``park_coverage``).
    label_zh, label_en
        Labels.
    reads
        Layers the result depends on (``parks``, ``homes``, ``network`` …): the key of the
        per-indicator result cache.
    params
        Parameters by name.
    compute
        The pure function ``compute(access, inputs, params) -> IndicatorResult``.
    requests
        ``requests(inputs, params) -> {key: Request}``: what it needs from the access stage.
    params_type
        The typed parameters object both functions take (``ParkParams`` …), built by
        :meth:`build` from the data file's defaults and a sheet's overrides.
    """

    id: str
    label_zh: str
    label_en: str
    reads: tuple[str, ...]
    params: Mapping[str, Param]
    compute: Compute
    requests: Requests | None = None
    params_type: type = NoParams

    def defaults(self) -> dict[str, Any]:
        """Every parameter at its default.

        Returns
        -------
        dict of str to Any
        """
        return {k: p.default for k, p in self.params.items()}

    def build(self, values: Mapping[str, Any]) -> Any:
        """The typed parameters of one run.

        ``values`` (resolved parameters and the run's own options, e.g. a themed circle's
        ``name``) over the defaults.

        Parameters
        ----------
        values
            Resolved parameters and the run's own options.

        Returns
        -------
        Any
            An instance of :attr:`params_type`.
        """
        return self.params_type(**(self.defaults() | dict(values)))

    def request_sets(self, inputs: Inputs, params: Any) -> dict[str, Request]:
        """What this run needs from the access stage (``{}`` for area indicators).

        Parameters
        ----------
        inputs
            The run's inputs.
        params
            The typed parameters (:meth:`build`).

        Returns
        -------
        dict of str to Request
        """
        if self.requests is None:
            return {}
        return self.requests(inputs, params)

    def reads_for(self, params: Mapping[str, Any]) -> tuple[str, ...]:
        """The layers this run depends on.

        A life circle reads ``parks`` or ``bus_stops`` only when one of its required categories (or
        their alternatives) is a park, green space or bus stop.

        Parameters
        ----------
        params
            The run's parameters.

        Returns
        -------
        tuple of str
        """
        if self.id not in ("life_circle", "circle"):
            return self.reads
        cats = _circle_categories(self.id, params)
        drop = set()
        if not cats & {"park", "green"}:
            drop.add("parks")
        if "bus_stop" not in cats:
            drop.add("bus_stops")
        return tuple(r for r in self.reads if r not in drop)


def _circle_categories(iid: str, params: Mapping[str, Any]) -> set[str]:
    from geoplan.rules.life_circles import load_life_circles

    lc = params.get("circles") or load_life_circles()
    specs: list[tuple[tuple[str, ...], Mapping[str, tuple[str, ...]]]] = []
    if iid == "circle":
        c = lc.circles[params["name"]]
        specs.append((c.categories, c.alternatives))
    else:
        for lev in lc.levels.values():
            specs.append((lev.required, lev.alternatives))
    out: set[str] = set()
    for cats, alts in specs:
        for c in cats:
            out |= {c, *alts.get(c, ())}
    return out


def _green_land_ratio(access: Access, inputs: Inputs, params: NoParams) -> IndicatorResult:
    return parks.green_land_ratio(inputs.city.parks, inputs.boundary)


def _park_area_per_resident(access: Access, inputs: Inputs, params: NoParams) -> IndicatorResult:
    c = inputs.city
    return parks.park_area_per_resident(c.parks, inputs.residents_total, c.boundary_polygon)


def _road_density(
    access: Access, inputs: Inputs, params: roads.RoadDensityParams
) -> IndicatorResult:
    return roads.road_density(
        inputs.city.roads, inputs.boundary, pair_distance_m=params.pair_distance_m
    )


def _intersection_density(
    access: Access, inputs: Inputs, params: roads.IntersectionParams
) -> IndicatorResult:
    return roads.intersection_density(
        inputs.city.network, inputs.boundary, tolerance_m=params.tolerance_m
    )


def _road_area_ratio(access: Access, inputs: Inputs, params: NoParams) -> IndicatorResult:
    return roads.road_area_ratio(
        inputs.city.roads, inputs.boundary, residents=inputs.residents_total
    )


def _green_cover_ratio(
    access: Access, inputs: Inputs, params: green_cover.GreenCoverParams
) -> IndicatorResult:
    if inputs.landcover is None:
        raise ValueError("green_cover_ratio needs a land-cover raster (Inputs.landcover)")
    return green_cover.green_cover_ratio(
        inputs.landcover,
        inputs.boundary,
        crs=inputs.city.crs,
        classes=tuple(int(x) for x in params.classes),
        ndvi_min=params.ndvi_min,
    )


#: each indicator's parameters type, compute function and access requests (None: area only)
_FUNCTIONS: dict[str, tuple[type, Compute, Requests | None]] = {
    "life_circle": (
        life_circles.LifeCircleParams,
        life_circles.life_circle_coverage,
        life_circles.life_circle_requests,
    ),
    "circle": (
        life_circles.CircleParams,
        life_circles.themed_circle_coverage,
        life_circles.themed_circle_requests,
    ),
    "park_coverage": (parks.ParkParams, parks.park_coverage, parks.park_requests),
    "bus_stop_coverage": (bus.BusParams, bus.bus_stop_coverage, bus.bus_requests),
    "green_land_ratio": (NoParams, _green_land_ratio, None),
    "park_area_per_resident": (NoParams, _park_area_per_resident, None),
    "road_density": (roads.RoadDensityParams, _road_density, None),
    "intersection_density": (roads.IntersectionParams, _intersection_density, None),
    "road_area_ratio": (NoParams, _road_area_ratio, None),
    "green_cover_ratio": (green_cover.GreenCoverParams, _green_cover_ratio, None),
}


def _params(spec: Mapping[str, Any]) -> dict[str, Param]:
    """The parameters of one entry of the data file."""
    return {
        name: Param(
            name,
            _freeze(p.get("default")),
            str(p.get("unit", "")),
            float(p.get("min", float("-inf"))),
            float(p.get("max", float("inf"))),
            str(p.get("source", "")),
            str(p.get("shape", "scalar")),
            tuple(str(c) for c in p.get("choices") or ()),
        )
        for name, p in (spec.get("parameters") or {}).items()
    }


@lru_cache(maxsize=1)
def _registry() -> dict[str, Indicator]:
    raw = read_yaml(INDICATORS_PATH)
    out: dict[str, Indicator] = {}
    for iid, spec in raw.items():
        if iid.startswith("_"):  # parameter groups that are not indicators (_scenario)
            continue
        params = _params(spec)
        params_type, compute, requests = _FUNCTIONS[iid]
        out[iid] = Indicator(
            iid,
            str(spec["label_zh"]),
            str(spec["label_en"]),
            tuple(spec.get("reads") or ()),
            params,
            compute,
            requests,
            params_type,
        )
    return out


_V = TypeVar("_V")


class _LazyView(Mapping[str, _V]):
    """Read-only view of a mapping built from ``data/indicators.yaml`` on first use.

    Parameters
    ----------
    load
        Builds the mapping (memoised).
    """

    def __init__(self, load: Callable[[], dict[str, _V]]) -> None:
        self._load = load

    def __getitem__(self, key: str) -> _V:
        return self._load()[key]

    def __iter__(self) -> Any:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


#: every indicator of the engine, by id
REGISTRY: Mapping[str, Indicator] = _LazyView(_registry)


#: Units a checkable target may use. Percentages are stored as shares (80% -> 0.8).
TARGET_UNITS: frozenset[str] = frozenset(
    {"share", "km/km2", "m2/person", "per_km2", "count", "m2", "km2"}
)


@dataclass(frozen=True, slots=True)
class TargetParam:
    """One parameter a target of a sheet may give its indicator (``params:`` of a target).

    Attributes
    ----------
    kind
        ``"choice"`` (one of ``choices``), ``"number"`` (a non-negative number), ``"name"`` (a
        snake_case word), ``"circle"`` (a themed-circle key of ``life_circles.yaml``) or
        ``"names"`` (a list of feature names, e.g. roads to open: ``[丰华街, 振中路]``).
    choices
        Allowed values of a ``"choice"``.
    required
        Whether a target must give it.
    """

    kind: Literal["choice", "number", "name", "circle", "names"]
    choices: tuple[str | int, ...] = ()
    required: bool = False


@dataclass(frozen=True, slots=True)
class TargetKind:
    """An indicator id a target sheet may name (``indicator:`` of a target).

    Declared in the ``targets:`` of its registry entry in ``data/indicators.yaml``.

    Attributes
    ----------
    id
        The id a sheet writes (``green_300m``, ``bus_stop_coverage`` …).
    indicator
        The registry indicator that measures it (``park_coverage``); ``None`` for the counts the
        scorecard makes itself (``count_existing`` …).
    unit
        Unit of the value (one of :data:`TARGET_UNITS`; shares 0–1).
    description
        One line saying what is measured.
    measure
        Template of the measure id it reads, over the indicator's parameters (with the sheet's
        overrides) and the target's own params (``green_{green_radius_m:g}``); ``None``: resolved
        by the scorecard (themed circles).
    params
        Parameters a target may give.
    """

    id: str
    indicator: str | None
    unit: str
    description: str
    measure: str | None
    params: Mapping[str, TargetParam]

    def measure_for(self, params: Mapping[str, Any]) -> str | None:
        """The measure id for these parameters (indicator's, then the target's, then its id).

        Parameters
        ----------
        params
            The indicator's parameters and the target's own.

        Returns
        -------
        str or None
        """
        return None if self.measure is None else self.measure.format(**params)


@lru_cache(maxsize=1)
def _targets() -> dict[str, TargetKind]:
    raw = read_yaml(INDICATORS_PATH)
    out: dict[str, TargetKind] = {}
    for iid, spec in raw.items():
        for tid, t in (spec.get("targets") or {}).items():
            params = {
                name: TargetParam(
                    p["kind"], tuple(p.get("choices") or ()), bool(p.get("required", False))
                )
                for name, p in (t.get("params") or {}).items()
            }
            unit = str(t["unit"])
            if unit not in TARGET_UNITS or tid in out:
                raise ValueError(f"{INDICATORS_PATH}: {iid}: target {tid!r} unit or id")
            indicator = None if iid.startswith("_") else iid
            out[tid] = TargetKind(
                tid, indicator, unit, str(t.get("description", "")), t.get("measure"), params
            )
    return out


#: every indicator id a target sheet may name, by id (declared in the registry's data file)
TARGETS: Mapping[str, TargetKind] = _LazyView(_targets)


@lru_cache(maxsize=1)
def _groups() -> dict[str, dict[str, Param]]:
    raw = read_yaml(INDICATORS_PATH)
    out: dict[str, dict[str, Param]] = {}
    for gid, spec in raw.items():
        if not gid.startswith("_"):
            continue
        out[gid[1:]] = _params(spec)
    return out


def group_param(group: str, name: str) -> Param:
    """A parameter of a non-indicator group of the data file (``scenario``: snap_m, grid_m).

    Parameters
    ----------
    group, name
        The group (``scenario``) and the parameter.

    Returns
    -------
    Param
    """
    return _groups()[group][name]


def resolve_params(
    indicator: str, overrides: Mapping[str, Any] | None = None, *, where: str = "parameters"
) -> dict[str, Any]:
    """An indicator's parameters: defaults, then ``overrides`` checked by name and range.

    Raises
    ------
    TargetSheetError
        Unknown indicator or parameter (with the closest valid name), or a value out of range.

    Parameters
    ----------
    indicator
        A registry id.
    overrides
        A sheet's ``parameters:`` of that indicator.
    where
        The sheet, for the message.

    Returns
    -------
    dict of str to Any
    """
    if indicator not in REGISTRY:
        raise TargetSheetError(unknown_message("indicator", indicator, sorted(REGISTRY), where))
    ind = REGISTRY[indicator]
    out = ind.defaults()
    for k, v in (overrides or {}).items():
        if k not in ind.params:
            valid = sorted(ind.params) or ["(none)"]
            raise TargetSheetError(
                unknown_message(f"parameter of {indicator}", str(k), valid, where)
            )
        out[k] = ind.params[k].check(v, f"{where}: {indicator}")
    return out


def evaluate(
    indicator: str,
    inputs: Inputs,
    *,
    cache: AccessCache | None = None,
    **params: Any,
) -> IndicatorResult:
    """Run one indicator on its own: its access requests, then its function.

    ``params`` override registry parameters (checked) and pass the function's other keywords
    (``circles``, ``name`` and ``radius_m`` of a themed circle, ``zero_if_empty``).

    Examples
    --------
    >>> import geoplan
    >>> from geoplan.city.homes import homes_from_city
    >>> from geoplan.indicators.inputs import Inputs
    >>> city = geoplan.load_city("demo")
    >>> res = evaluate("bus_stop_coverage", Inputs(city, homes_from_city(city)))
    >>> sorted(set(res.summary["measure"]))
    ['bus_cov_300', 'bus_cov_500']

    Parameters
    ----------
    indicator
        A registry id.
    inputs
        The city, its homes and areas.
    cache
        An access cache to reuse.
    **params
        Parameter overrides and the function's other options.

    Returns
    -------
    IndicatorResult
    """
    spec = REGISTRY[indicator]
    mine = {k: v for k, v in params.items() if k in spec.params}
    other = {k: v for k, v in params.items() if k not in spec.params}
    p = spec.build(resolve_params(indicator, mine, where="evaluate") | other)
    cache = cache if cache is not None else AccessCache()
    net = inputs.city.network
    att = cache.attach(net, np.asarray(inputs.homes.geometry.values, dtype=object))
    reqs = spec.request_sets(inputs, p)
    access = compute_access(net, att, reqs, boundary=inputs.boundary, cache=cache)
    return spec.compute(access, inputs, p)
