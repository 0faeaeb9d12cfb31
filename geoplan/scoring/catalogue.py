"""The indicators a target sheet may name, with their unit and allowed parameters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

#: Units a checkable target may use. Percentages are stored as shares (80% -> 0.8).
UNITS: frozenset[str] = frozenset({"share", "km/km2", "m2/person", "per_km2", "count"})


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One allowed parameter of an indicator.

    Parameters
    ----------
    kind
        ``"choice"`` (value must be one of ``choices``), ``"number"`` (a non-negative number),
        ``"name"`` (a snake_case word) or ``"circle"`` (a themed-circle key from
        ``life_circles.yaml``).
    choices
        Allowed values for ``"choice"``.
    required
        Whether a target must give the parameter.
    """

    kind: Literal["choice", "number", "name", "circle"]
    choices: tuple[str | int, ...] = ()
    required: bool = False


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """What a checkable indicator returns and which parameters it accepts.

    Parameters
    ----------
    unit
        The unit of the indicator's value (one of :data:`UNITS`).
    params
        Allowed parameters by name.
    description
        One line saying what is measured.
    """

    unit: str
    params: Mapping[str, ParamSpec]
    description: str


def _spec(unit: str, description: str, **params: ParamSpec) -> IndicatorSpec:
    return IndicatorSpec(unit=unit, params=MappingProxyType(params), description=description)


_NUMBER = ParamSpec("number")


#: The indicators a target sheet may name, with their unit and allowed parameters. These are the
#: functions the indicator engine implements.
INDICATORS: Mapping[str, IndicatorSpec] = MappingProxyType(
    {
        "life_circle": _spec(
            "share",
            "share of homes reaching every required category of a life-circle level",
            level=ParamSpec("choice", ("5min", "10min", "15min"), required=True),
        ),
        "complete_life_circle": _spec(
            "share",
            "完整生活圈: share of homes reaching every required category of the 15-, 10- and "
            "5-minute levels, each within its own distance",
        ),
        "count_existing": _spec(
            "count",
            "number of features of a kind in the study area (e.g. 游园 between area bounds)",
            kind=ParamSpec("name", required=True),
            min_area_m2=_NUMBER,
            max_area_m2=_NUMBER,
        ),
        "count_per_unit": _spec(
            "share",
            "share of units (街道, given with --units) holding at least min_count of a kind",
            kind=ParamSpec("name", required=True),
            min_count=_NUMBER,
        ),
        "circle": _spec(
            "share",
            "share of homes reaching every category of a themed circle within radius_m",
            name=ParamSpec("circle", required=True),
            radius_m=_NUMBER,
        ),
        "park_service_coverage": _spec("share", "公园绿地服务半径覆盖率"),
        "green_300m": _spec("share", "300米见绿: share of homes with public green within 300 m"),
        "park_500m": _spec("share", "500米见园: share of homes with a park within 500 m"),
        "bus_stop_coverage": _spec(
            "share",
            "公交站点覆盖率: share within radius_m of a bus stop",
            radius_m=ParamSpec("choice", (300, 500), required=True),
        ),
        "road_density": _spec("km/km2", "路网密度: road centreline km per km2"),
        "intersection_density": _spec("per_km2", "intersections per km2"),
        "green_land_ratio": _spec("share", "绿地率 (OSM approximation)"),
        "green_cover_ratio": _spec("share", "绿化覆盖率 (needs a land-cover raster)"),
        "park_area_per_resident": _spec("m2/person", "人均公园绿地面积 (needs population)"),
        "road_area_ratio": _spec("share", "道路面积率"),
        "road_area_per_resident": _spec("m2/person", "人均道路面积 (needs population)"),
        "count_added": _spec(
            "count",
            "number of features of a kind added by a plan scenario",
            kind=ParamSpec("name", required=True),
            min_area_m2=_NUMBER,
            max_area_m2=_NUMBER,
        ),
    }
)
