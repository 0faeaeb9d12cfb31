"""geoplan's one vocabulary.

Measure ids, output columns, coverage-layer keys, methods, bases, statuses, and their Chinese /
English labels.

Every producer (indicators, the scorecard, scenarios) and every consumer (tables, maps, the CLI)
spells these names through this module; nobody renames or re-parses them. Planners read the
column names in GeoPackages and spreadsheets, so they are stable:

- measure ids: ``bus_cov_500``, ``park_service``, ``green_300``, ``park_500``, a life-circle level
  (``15min``), a themed circle with its radius (``fitness_1000``) …;
- per-home flags and coverage-layer keys: ``<stem>_<method>`` — ``bus_cov_500_network``,
  ``park_service_buffer``, ``lc_15min_complete_network`` (:func:`coverage_key`);
- walking distances per category: ``dist_<category>_m`` (:func:`dist_column`).

Examples
--------
>>> from geoplan import names
>>> names.coverage_key(names.bus_measure(500), names.Method.NETWORK)
'bus_cov_500_network'
>>> names.dist_column("kindergarten")
'dist_kindergarten_m'
>>> names.method_label("network", "zh")
'步行网络'
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

Lang = Literal["zh", "en"]

__all__ = [
    "BASIS_LABELS",
    "COMPLETE_LC",
    "COMPLETE_LC_LABELS",
    "GAP_MEASURES",
    "KEY_MEASURES",
    "LAYER_CATEGORIES",
    "LAYER_CATEGORY_LABELS",
    "LAYER_LABELS",
    "LEVELS",
    "MAP_MEASURES",
    "METHOD_LABELS",
    "PARK_SERVICE",
    "STATUS_LABELS",
    "Basis",
    "CoverageLayer",
    "Lang",
    "Method",
    "Status",
    "basis_label",
    "bus_measure",
    "circle_flag_stem",
    "circle_measure",
    "column_name",
    "coverage_key",
    "dist_column",
    "flag_stem",
    "gap_labels",
    "green_measure",
    "layer_label",
    "method_label",
    "method_of_key",
    "park_measure",
    "park_set_key",
    "status_label",
    "unit_share_columns",
]


class Method(StrEnum):
    """How a value is measured."""

    BUFFER = "buffer"  #: straight-line service radius (服务半径, the official method)
    NETWORK = "network"  #: walking distance on the street network
    AREA = "area"  #: an area ratio or area per person
    CENTRELINE = "centreline"  #: road centreline length
    SCENARIO = "scenario"  #: a count a plan scenario adds


class Basis(StrEnum):
    """What a share is a share of."""

    RESIDENTIAL_AREA = "residential_area"
    HOMES = "homes"
    RESIDENTS = "residents"
    BOUNDARY_AREA = "boundary_area"
    BUILT_UP_AREA = "built_up_area"
    DISTRICT_AREA = "district_area"  #: the 市辖区 / district (区域开发强度)
    COUNT = "count"


class Status(StrEnum):
    """A target's verdict. ``Status.PASS == "pass"`` (a str enum), so tables stay plain text."""

    PASS = "pass"
    FAIL = "fail"
    NO_DATA = "no data"
    NOT_CHECKABLE = "not checkable"
    #: measured and shown, but the document sets no figure (a 城市体检 导向 / 监测 indicator)
    MEASURED = "measured"


#: (zh, en) label of each method
METHOD_LABELS: dict[str, tuple[str, str]] = {
    Method.BUFFER: ("缓冲区", "buffer"),
    Method.NETWORK: ("步行网络", "walking network"),
    Method.AREA: ("面积", "area"),
    Method.CENTRELINE: ("中心线", "centreline"),
    Method.SCENARIO: ("方案", "scenario"),
    "centreline×width": ("中心线×宽度", "centreline × width"),
}
#: (zh, en) label of each basis
BASIS_LABELS: dict[str, tuple[str, str]] = {
    Basis.RESIDENTIAL_AREA: ("居住用地面积", "residential land"),
    Basis.HOMES: ("住宅数", "homes"),
    Basis.RESIDENTS: ("人口", "residents"),
    Basis.BOUNDARY_AREA: ("研究范围面积", "study area"),
    Basis.BUILT_UP_AREA: ("建成区面积", "built-up area"),
    Basis.DISTRICT_AREA: ("辖区面积", "district area"),
    Basis.COUNT: ("数量", "count"),
}
#: (zh, en) label of each status
STATUS_LABELS: dict[str, tuple[str, str]] = {
    Status.PASS: ("达标", "pass"),
    Status.FAIL: ("未达标", "fail"),
    Status.NO_DATA: ("无数据", "no data"),
    Status.NOT_CHECKABLE: ("不可核查", "not checkable"),
    Status.MEASURED: ("仅监测", "measured, no target"),
}


#: (zh, en) short labels of methods and bases, for a terminal row (``步行·人口`` / ``walk·people``)
METHOD_SHORT: dict[str, tuple[str, str]] = {
    Method.BUFFER: ("缓冲", "buffer"),
    Method.NETWORK: ("步行", "walk"),
    Method.AREA: ("面积", "area"),
    Method.CENTRELINE: ("中心线", "line"),
    Method.SCENARIO: ("方案", "plan"),
    "centreline×width": ("线×宽", "line×w"),
    "count": ("计数", "count"),
    "raster": ("影像", "raster"),
}
BASIS_SHORT: dict[str, tuple[str, str]] = {
    Basis.RESIDENTIAL_AREA: ("用地", "land"),
    Basis.HOMES: ("住宅", "homes"),
    Basis.RESIDENTS: ("人口", "people"),
    Basis.BOUNDARY_AREA: ("范围", "area"),
    Basis.BUILT_UP_AREA: ("建成区", "built-up"),
    Basis.DISTRICT_AREA: ("辖区", "district"),
    Basis.COUNT: ("", ""),
    "units": ("单元", "units"),
}


def method_short(method: object, basis: object = "", lang: Lang = "zh") -> str:
    """``"步行·人口"``: a method and its basis in a few characters (a terminal scorecard).

    Parameters
    ----------
    method
        ``buffer`` / ``network`` / ``area`` (empty: none).
    basis
        The basis (empty: none).
    lang
        ``zh`` or ``en``.

    Returns
    -------
    str
    """
    m = _label(METHOD_SHORT, method, lang) if method else ""
    b = _label(BASIS_SHORT, basis, lang) if basis else ""
    return "·".join(x for x in (m, b) if x and x != "nan")


def _label(table: dict[str, tuple[str, str]], key: object, lang: Lang) -> str:
    pair = table.get(str(key))
    if pair is None:
        return "" if key is None else str(key)
    return pair[0] if lang == "zh" else pair[1]


def method_label(method: object, lang: Lang = "zh") -> str:
    """Label of a method (``"network"`` → ``"步行网络"`` / ``"walking network"``).

    Parameters
    ----------
    method
        ``buffer`` / ``network`` / ``area``.
    lang
        ``zh`` or ``en``.

    Returns
    -------
    str
    """
    return _label(METHOD_LABELS, method, lang)


def basis_label(basis: object, lang: Lang = "zh") -> str:
    """Label of a basis (``"residential_area"`` → ``"居住用地面积"`` / ``"residential land"``).

    Parameters
    ----------
    basis
        A basis (:class:`Basis`).
    lang
        ``zh`` or ``en``.

    Returns
    -------
    str
    """
    return _label(BASIS_LABELS, basis, lang)


def status_label(status: object, lang: Lang = "zh") -> str:
    """Label of a status (``"pass"`` → ``"达标"``).

    Parameters
    ----------
    status
        A status (:class:`Status`).
    lang
        ``zh`` or ``en``.

    Returns
    -------
    str
    """
    return _label(STATUS_LABELS, status, lang)


#: (zh, en) label of each city layer (GeoPackage layers, scenario changes)
LAYER_LABELS: dict[str, tuple[str, str]] = {
    "boundary": ("研究范围", "study area"),
    "roads": ("道路中心线", "roads"),
    "paths": ("步行道", "footpaths"),
    "facilities": ("公共服务设施", "facilities"),
    "parks": ("公园绿地", "parks and green space"),
    "bus_stops": ("公交站点", "bus stops"),
    "residential": ("居住用地", "residential land"),
    "buildings": ("住宅建筑", "buildings"),
    "network_nodes": ("步行网络节点", "walk network nodes"),
    "network_edges": ("步行网络路段", "walk network edges"),
}


def layer_label(layer: str, lang: Lang = "zh") -> str:
    """Label of a city layer (``"parks"`` → ``"公园绿地"``).

    Parameters
    ----------
    layer
        A city layer name.
    lang
        ``zh`` or ``en``.

    Returns
    -------
    str
    """
    return _label(LAYER_LABELS, layer, lang)


# ---- measure ids ---------------------------------------------------------------------------

#: pseudo-categories served by layers other than ``facilities``
LAYER_CATEGORIES: tuple[str, ...] = ("bus_stop", "park", "green")
#: (zh, en) labels of the layer categories
LAYER_CATEGORY_LABELS: dict[str, tuple[str, str]] = {
    "bus_stop": ("公交站", "bus stop"),
    "park": ("公园", "park"),
    "green": ("公共绿地", "public green space"),
}
#: life-circle levels (GB 50180-2018: 5 / 10 / 15 minutes)
LEVELS: tuple[str, ...] = ("5min", "10min", "15min")

#: measure id of 完整生活圈: every required category of the three levels, each at its own distance
COMPLETE_LC = "complete"

#: labels of :data:`COMPLETE_LC`
COMPLETE_LC_LABELS: tuple[str, str] = (
    "完整生活圈（15、10、5分钟）",
    "Complete life circle (15/10/5 min)",
)
#: 公园绿地服务半径覆盖率 (tiered park service radii)
PARK_SERVICE = "park_service"


def bus_measure(radius_m: float) -> str:
    """公交站点覆盖率 at ``radius_m``: ``bus_cov_500``.

    Parameters
    ----------
    radius_m
        Radius (m).

    Returns
    -------
    str
    """
    return f"bus_cov_{float(radius_m):g}"


def green_measure(radius_m: float) -> str:
    """Public green within ``radius_m`` ("300米见绿"): ``green_300``.

    Parameters
    ----------
    radius_m
        Radius (m).

    Returns
    -------
    str
    """
    return f"green_{float(radius_m):g}"


def park_measure(radius_m: float) -> str:
    """A park within ``radius_m`` ("500米见园"): ``park_500``.

    Parameters
    ----------
    radius_m
        Radius (m).

    Returns
    -------
    str
    """
    return f"park_{float(radius_m):g}"


def circle_measure(name: str, radius_m: float) -> str:
    """A themed circle (健身圈 …) at ``radius_m``: ``fitness_1000``.

    Parameters
    ----------
    name
        Themed-circle key of ``life_circles.yaml``.
    radius_m
        Radius (m).

    Returns
    -------
    str
    """
    return f"{name}_{float(radius_m):g}"


def circle_flag_stem(key: str, category: str = "complete") -> str:
    """Per-home flag stem of a life-circle level or themed circle: ``lc_15min_complete``.

    Parameters
    ----------
    key
        Level (``15min``) or circle measure.
    category
        A category, or ``complete`` (every required one).

    Returns
    -------
    str
    """
    return f"lc_{key}_{category}"


def flag_stem(measure: str) -> str:
    """The per-home flag / coverage stem of a coverage measure (life circles get ``lc_…``).

    Parameters
    ----------
    measure
        A coverage measure id.

    Returns
    -------
    str
    """
    return circle_flag_stem(measure) if measure in (*LEVELS, COMPLETE_LC) else measure


def column_name(stem: str, *, radius_m: float | None = None, method: str | None = None) -> str:
    """The one place output column names are made: ``bus_cov_500_network``, ``green_300``.

    Parameters
    ----------
    stem
        The stem (:func:`flag_stem`, a category …).
    radius_m
        Radius (m) appended, if any.
    method
        Method appended, if any.

    Returns
    -------
    str
    """
    parts = [stem]
    if radius_m is not None:
        parts.append(f"{radius_m:g}")
    if method is not None:
        parts.append(str(method))
    return "_".join(parts)


def coverage_key(measure: str, method: str) -> str:
    """Per-home flag column and coverage-layer key of a measure: ``bus_cov_500_buffer``.

    Parameters
    ----------
    measure
        A coverage measure id.
    method
        ``buffer`` or ``network``.

    Returns
    -------
    str
    """
    return column_name(flag_stem(measure), method=method)


def method_of_key(key: str) -> str | None:
    """The method (``buffer`` / ``network``) a coverage key or per-home flag ends in, else None.

    Parameters
    ----------
    key
        A coverage key or per-home flag column.

    Returns
    -------
    str or None
    """
    for method in (Method.BUFFER, Method.NETWORK):
        if key.endswith(f"_{method}"):
            return str(method)
    return None


def unit_share_columns(
    columns: Collection[object], methods: Sequence[str] = ("buffer", "network")
) -> list[str]:
    """The per-unit share columns among ``columns``: :func:`coverage_key` of each key measure.

    In the order of :data:`KEY_MEASURES`, each measure's ``methods`` in the order given.

    Parameters
    ----------
    columns
        Columns of a per-unit table.
    methods
        Methods wanted, in order.

    Returns
    -------
    list of str
    """
    have = {str(c) for c in columns}
    keys = [coverage_key(m, meth) for m in KEY_MEASURES for meth in methods]
    return [k for k in keys if k in have]


def park_set_key(kind: Literal["tier", "green", "park"], min_area_m2: float) -> str:
    """Name of one park source set: its access key and, as ``dist_<key>_m``, its distance column.

    ``tier``: parks of a service-radius tier from ``min_area_m2`` (公园绿地服务半径, below the next
    tier); ``green``: public green of at least ``min_area_m2`` (300米见绿); ``park``: parks of at
    least ``min_area_m2`` (500米见园).

    >>> park_set_key("park", 5000), dist_column(park_set_key("green", 400))
    ('park_min_5000', 'dist_green_min_400_m')

    Parameters
    ----------
    kind
        ``tier``, ``green`` or ``park``.
    min_area_m2
        Least area (m²) of the set.

    Returns
    -------
    str
    """
    return {"tier": "park_tier", "green": "green_min", "park": "park_min"}[
        kind
    ] + f"_{min_area_m2:g}"


def dist_column(category: str) -> str:
    """Walking distance (m) from each home to the nearest facility of ``category``.

    Parameters
    ----------
    category
        A facility category or source-set key.

    Returns
    -------
    str
    """
    return f"dist_{category}_m"


#: measures shown per unit (街道 / 社区 or grid cell) and per home in scenario comparisons
KEY_MEASURES: tuple[str, ...] = (
    PARK_SERVICE,
    green_measure(300),
    park_measure(500),
    bus_measure(500),
    bus_measure(300),
    "15min",
)
#: coverage areas a check map draws (both methods where they exist)
MAP_MEASURES: tuple[str, ...] = (
    bus_measure(300),
    bus_measure(500),
    PARK_SERVICE,
    green_measure(300),
    park_measure(500),
)
#: coverage areas whose gaps (residential land outside the buffer) are drawn on maps
GAP_MEASURES: tuple[str, ...] = (bus_measure(500), PARK_SERVICE)


def gap_labels(layer: CoverageLayer) -> tuple[str, str]:
    """(zh, en) label of the residential land outside a coverage layer.

    Parameters
    ----------
    layer
        A buffer coverage layer.

    Returns
    -------
    tuple of str
        ``(zh, en)``.
    """
    return f"{layer.label_zh}·未覆盖居住用地", f"Residential land outside: {layer.label_en}"


@dataclass(frozen=True, slots=True)
class CoverageLayer:
    """A coverage area an indicator produced, with everything a reader needs to show it.

    Attributes
    ----------
    key
        :func:`coverage_key` of ``measure`` and ``method`` (``bus_cov_500_buffer``).
    measure
        The measure id (``bus_cov_500``).
    method
        ``buffer`` or ``network``.
    family
        ``bus``, ``park``, ``green`` or ``life_circle`` (colour family on maps).
    radius_m
        The service radius (m); ``None`` for tiered park service.
    label_zh, label_en
        The measure's labels (without the method).
    """

    key: str
    measure: str
    method: str
    family: str
    radius_m: float | None
    label_zh: str
    label_en: str

    def label(self, lang: Lang = "zh") -> str:
        """``公交站点500米覆盖率（步行网络）`` / ``Bus stop 500 m coverage (walking network)``.

        Parameters
        ----------
        lang
            ``zh`` or ``en``.

        Returns
        -------
        str
        """
        if lang == "zh":
            return f"{self.label_zh}（{method_label(self.method, 'zh')}）"
        return f"{self.label_en} ({method_label(self.method, 'en')})"
