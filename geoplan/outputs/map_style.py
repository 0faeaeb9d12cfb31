"""Offline web-map assets: Leaflet 1.9.4 inlined from ``geoplan/data/assets``, and the map class.

The files in ``geoplan/data/assets`` are the unmodified ``dist/leaflet.js``, ``dist/leaflet.css``
and ``dist/images/layers*.png`` of the npm package ``leaflet@1.9.4`` (BSD-2-Clause, licence in
``LEAFLET_LICENSE`` beside them). They ship inside the geoplan wheel, so a map saved with
``offline=True`` carries everything it needs and never fetches a script, a stylesheet or an image
at view time. Only Leaflet is needed: geoplan maps use plain Leaflet features (GeoJSON layers,
circle markers, the layers control), so folium's jQuery, Bootstrap and awesome-markers are dropped.

The second half holds the colours, weights and zh/en wording of the map and its legend (one place).
Distance classes follow the walking distances of the life circles in GB 50180-2018
城市居住区规划设计标准 (5-minute ≈ 300 m, 10-minute ≈ 500 m, 15-minute ≈ 800–1000 m; the upper
value is used).
"""

from __future__ import annotations

import base64
import functools
import html
import math
import re
from importlib import resources
from typing import Any, Literal

import folium
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from geoplan.names import CoverageLayer

BASEMAPS: tuple[str, ...] = ("none", "osm", "tianditu", "amap", "local")


Lang = Literal["zh", "en"]


LEAFLET_VERSION = "1.9.4"


CDN_JS = [("leaflet", f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/leaflet.js")]


CDN_CSS = [
    ("leaflet_css", f"https://cdn.jsdelivr.net/npm/leaflet@{LEAFLET_VERSION}/dist/leaflet.css")
]


def _asset(name: str) -> bytes:
    return resources.files("geoplan").joinpath("data", "assets", name).read_bytes()


@functools.cache
def leaflet_js() -> str:
    """Leaflet's minified JS, without its source-map comment, safe inside a ``<script>`` tag.

    Returns
    -------
    str
        The script text.
    """
    js = _asset("leaflet.js").decode("utf-8")
    js = re.sub(r"//# sourceMappingURL=\S+\s*$", "", js)
    return js.replace("</script", "<\\/script")


@functools.cache
def leaflet_css() -> str:
    """Leaflet's CSS with its layer-control icons as ``data:`` URIs and no other ``url()``.

    Returns
    -------
    str
        The stylesheet text.
    """
    css = _asset("leaflet.css").decode("utf-8")
    for png in ("layers.png", "layers-2x.png"):
        b64 = base64.b64encode(_asset(png)).decode("ascii")
        css = css.replace(f"url(images/{png})", f"url(data:image/png;base64,{b64})")
    # geoplan draws no default markers; drop the only other file reference (marker-icon.png)
    css = re.sub(r"url\(images/[^)]*\)", "none", css)
    return css.replace("</style", "<\\/style")


class _InlineLeaflet(Element):
    """``<style>`` and ``<script>`` elements holding Leaflet itself (rendered in the header)."""

    _template = Template("<style>{{ this.css }}</style>\n<script>{{ this.js }}</script>\n")

    def __init__(self) -> None:
        super().__init__()
        self._name = "InlineLeaflet"
        self.css = leaflet_css()
        self.js = leaflet_js()


class PlainControls(MacroElement):
    """Leaflet's attribution prefix without its flag, and (optionally) a metric-only scale bar.

    Every map geoplan writes is meant for Chinese government use: the prefix is a plain link to
    Leaflet; "© OpenStreetMap contributors" is added by the layers (ODbL).

    Parameters
    ----------
    metric_scale
        Add a metric-only scale bar.
    credit
        A credit line added to the attribution control (empty: none).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(){
          var m = {{ this._parent.get_name() }};
          m.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
          {% if this.credit %}
          m.attributionControl.addAttribution({{ this.credit|tojson }});
          {% endif %}
          {% if this.metric_scale %}
          L.control.scale({imperial: false, metric: true, position: "bottomleft"}).addTo(m);
          {% endif %}
        })();
        {% endmacro %}
        """
    )

    def __init__(self, *, metric_scale: bool = False, credit: str = "") -> None:
        super().__init__()
        self._name = "PlainControls"
        self.metric_scale = metric_scale
        self.credit = credit


class GeoplanMap(folium.Map):
    """A :class:`folium.Map` that links only Leaflet, inlined when ``offline`` is true.

    ``offline`` is read at render time, so one map can be saved both ways; geoplan's
    :func:`geoplan.outputs.webmap.save_map` sets it. Leaflet's attribution prefix carries no flag
    (:class:`PlainControls`); ``metric_scale`` adds a metric-only scale bar (folium's
    ``control_scale`` shows miles too); ``osm_credit`` adds "© OpenStreetMap contributors" to
    the attribution control (maps whose layers do not carry it).

    Parameters
    ----------
    *args
        Positional arguments of :class:`folium.Map`.
    offline
        Inline Leaflet when rendered (else link it from a CDN).
    metric_scale
        Add a metric-only scale bar.
    osm_credit
        Add "© OpenStreetMap contributors" to the attribution control.
    **kwargs
        Keyword arguments of :class:`folium.Map`.
    """

    def __init__(
        self,
        *args: Any,
        offline: bool = True,
        metric_scale: bool = False,
        osm_credit: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.offline = offline
        self.lang = "zh"
        credit = OSM_ATTRIBUTION if osm_credit else ""
        self.add_child(PlainControls(metric_scale=metric_scale, credit=credit))

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Render, linking Leaflet inline (offline) or from a CDN.

        Parameters
        ----------
        **kwargs
            Passed to :meth:`folium.Map.render`.
        """
        figure = self.get_root()
        assert isinstance(figure, Figure)
        header = figure.header
        for key in ("leaflet", "leaflet_css"):
            header._children.pop(key, None)
        if self.offline:
            self.default_js = []
            self.default_css = []
            header.add_child(_InlineLeaflet(), name="leaflet")
        else:
            self.default_js = list(CDN_JS)  # JSCSSMixin.render links these
            self.default_css = list(CDN_CSS)
        super().render(**kwargs)

    def overlays(self) -> list[folium.map.Layer]:
        """The overlay layers in drawing order (what the layer control lists).

        Returns
        -------
        list of folium.map.Layer
            Overlays, bottom first.
        """
        return [
            c
            for c in self._children.values()
            if isinstance(c, folium.map.Layer) and c.overlay and c.control
        ]


OSM_ATTRIBUTION = (
    '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)


# life-circle distance classes, metres (upper bounds, inclusive)
DIST_CLASSES_M = (300.0, 500.0, 1000.0)


GREEN, LIGHT_GREEN, YELLOW, ORANGE, RED = "#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027"


COMPLETE_COLOURS = (GREEN, LIGHT_GREEN, YELLOW, RED)  # 5 / 10 / 15 min / none


SHARE_CLASSES = (0.9, 0.6, 0.3)  # share complete (15 min) per grid cell, lower bounds


DIST_COLOURS = (GREEN, LIGHT_GREEN, YELLOW, ORANGE, RED)  # ≤300 / ≤500 / ≤1000 / >1000 / none


# one meaning per colour: red / orange are "not covered" and "far" on homes, so roads use purple
# and browns; facilities use no red or orange either
ROAD_STYLE: dict[str, dict[str, Any]] = {
    "expressway": {"color": "#54278f", "weight": 5},
    "arterial": {"color": "#8c510a", "weight": 4},
    "secondary": {"color": "#bf812d", "weight": 3},
    "local": {"color": "#737373", "weight": 2},
    "internal": {"color": "#bdbdbd", "weight": 1},
}


BOUNDARY_STYLE: dict[str, Any] = {
    "color": "#252525",
    "weight": 2,
    "dashArray": "6 4",
    "fill": False,
}


GAP_STYLE: dict[str, Any] = {
    "color": "#c51b7d",
    "weight": 1,
    "fillColor": "#e7298a",
    "fillOpacity": 0.45,
}


PARK_STYLE: dict[str, Any] = {
    "color": "#1b7837",
    "weight": 1,
    "fillColor": "#5aae61",
    "fillOpacity": 0.5,
}


BUS_STOP_STYLE: dict[str, Any] = {
    "radius": 3,
    "color": "#08519c",
    "weight": 1,
    "fillColor": "#4292c6",
}


HOME_RADIUS = 3


FACILITY_RADIUS = 3.5


# one colour per facility category, assigned in taxonomy order (stable across maps)
CATEGORY_PALETTE = (
    "#1f77b4", "#17a589", "#2ca02c", "#2e86c1", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#5d6d7e", "#7b4173", "#3182bd",
    "#af7ac5", "#31a354", "#756bb1", "#636363", "#1abc9c", "#a55194", "#6b6ecf", "#b5cf6b",
)  # fmt: skip


BACKGROUND = "#f4f3ef"


TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "{city} · 生活圈与设施覆盖",
        "boundary": "研究范围",
        "roads": "道路（按等级）",
        "homes": "住宅 · 生活圈完整度",
        "homes_grid": "住宅 · 生活圈完整度（{cell} m 网格）",
        "homes_cat": "住宅 · 至{cat}",
        "facility": "设施 · {cat}",
        "parks": "公园绿地",
        "bus_stops": "公交站",
        "gaps": "未覆盖的居住用地",
        "gap_causes": "步行未达原因 · {measure}",
        "cause": "原因",
        "legend": "图例",
        "scorecard": "指标评估",
        "name": "名称",
        "grade": "等级",
        "category": "类别",
        "unnamed": "（未命名）",
        "area_m2": "面积 (m²)",
        "life_circle": "生活圈",
        "lc0": "5 分钟生活圈完整",
        "lc1": "10 分钟生活圈完整",
        "lc2": "15 分钟生活圈完整",
        "lc3": "未达 15 分钟生活圈",
        "sh0": "≥ 90% 住宅 15 分钟完整",
        "sh1": "60–90%",
        "sh2": "30–60%",
        "sh3": "< 30%",
        "d0": "≤ 300 m（5 分钟）",
        "d1": "≤ 500 m（10 分钟）",
        "d2": "≤ 1000 m（15 分钟）",
        "d3": "> 1000 m",
        "d4": "不可达",
        "dist": "步行距离 (m)",
        "median_dist": "步行距离中位数 (m)",
        "unreachable": "不可达",
        "homes_n": "住宅数",
        "share5": "5 分钟完整比例",
        "share10": "10 分钟完整比例",
        "share15": "15 分钟完整比例",
        "indicator": "指标",
        "measured": "现状",
        "target": "目标",
        "status": "评估",
        "gap": "差距",
        "baseline": "现状",
        "plan": "规划",
        "delta": "变化",
        "status_change": "评估（现状→规划）",
        "method": "方法",
        "bus": "公交站 {r} m 覆盖",
        "park": "公园服务范围",
        "buffer": "（缓冲区）",
        "network": "（步行网络）",
    },
    "en": {
        "title": "{city} · life circles and facility coverage",
        "boundary": "Study area",
        "roads": "Roads (by grade)",
        "homes": "Homes · life-circle completeness",
        "homes_grid": "Homes · life-circle completeness ({cell} m grid)",
        "homes_cat": "Homes · to {cat}",
        "facility": "Facilities · {cat}",
        "parks": "Parks and green space",
        "bus_stops": "Bus stops",
        "gaps": "Uncovered residential land",
        "gap_causes": "Why walking falls short · {measure}",
        "cause": "Cause",
        "legend": "Legend",
        "scorecard": "Scorecard",
        "name": "Name",
        "grade": "Grade",
        "category": "Category",
        "unnamed": "(unnamed)",
        "area_m2": "Area (m²)",
        "life_circle": "Life circle",
        "lc0": "5-minute life circle complete",
        "lc1": "10-minute life circle complete",
        "lc2": "15-minute life circle complete",
        "lc3": "15-minute life circle incomplete",
        "sh0": "≥ 90% of homes complete (15 min)",
        "sh1": "60–90%",
        "sh2": "30–60%",
        "sh3": "< 30%",
        "d0": "≤ 300 m (5 min)",
        "d1": "≤ 500 m (10 min)",
        "d2": "≤ 1000 m (15 min)",
        "d3": "> 1000 m",
        "d4": "unreachable",
        "dist": "Walking distance (m)",
        "median_dist": "Median walking distance (m)",
        "unreachable": "unreachable",
        "homes_n": "Homes",
        "share5": "Share complete, 5 min",
        "share10": "Share complete, 10 min",
        "share15": "Share complete, 15 min",
        "indicator": "Indicator",
        "measured": "Measured",
        "target": "Target",
        "status": "Status",
        "gap": "Gap",
        "baseline": "Baseline",
        "plan": "Plan",
        "delta": "Change",
        "status_change": "Status (baseline → plan)",
        "method": "Method",
        "bus": "Bus stops, {r} m coverage",
        "park": "Park service area",
        "buffer": " (buffer)",
        "network": " (walking network)",
    },
}


def esc(value: object) -> str:
    """``html.escape`` of ``str(value)`` (quotes too): every OSM or user string passes here.

    Parameters
    ----------
    value
        Any value drawn in a map (OSM names, user labels).

    Returns
    -------
    str
        Its text, HTML-escaped.
    """
    return html.escape(str(value), quote=True)


def coverage_label(key: str, layer: CoverageLayer | None, lang: Lang) -> str:
    """Readable (unescaped) label of a coverage area.

    Its :class:`CoverageLayer` label, else the key as given (a user's own coverage layer).

    Parameters
    ----------
    key
        The coverage key.
    layer
        Its description, or ``None`` (a user's own layer).
    lang
        ``zh`` or ``en``.

    Returns
    -------
    str
        The label.
    """
    return layer.label(lang) if layer is not None else key


#: colour family of each coverage family (dark for 300 m / tiered, light for larger radii)
_FAMILY = {"bus": "bus", "park": "park", "green": "park", "life_circle": "life_circle"}


#: one colour per method on every map (the report's figures use the same): buffer blue, walking
#: orange; a radius of 300 m (or a tiered service radius) darker than a larger one
METHOD_COVERAGE_COLOURS = {
    "buffer": ("#08519c", "#4292c6"),
    "network": ("#a63603", "#f16913"),
}


def coverage_style(layer: CoverageLayer | None) -> dict[str, Any]:
    """Style of a coverage area: its method's colour (buffer blue and dashed, walking orange).

    The family (bus, park, life circle) is in the layer's name; a 300 m or tiered radius is the
    darker shade of its method's colour.

    Parameters
    ----------
    layer
        The coverage area's description, or ``None`` (grey).

    Returns
    -------
    dict
        Leaflet path options.
    """
    method = layer.method if layer is not None else ""
    dark, light = METHOD_COVERAGE_COLOURS.get(str(method), ("#525252", "#969696"))
    radius = layer.radius_m if layer is not None else None
    colour = dark if radius in (None, 300.0) else light
    style: dict[str, Any] = {"color": colour, "weight": 2, "fillColor": colour}
    if layer is not None and layer.method == "buffer":
        style.update(dashArray="5 5", fillOpacity=0.08)
    else:
        style.update(fillOpacity=0.18)
    return style


def dist_class(d: float) -> int:
    """0–4: ≤300 m, ≤500 m, ≤1000 m, farther, unreachable (inf / NaN).

    Parameters
    ----------
    d
        Walking distance (m).

    Returns
    -------
    int
        The class (0–4).
    """
    if not math.isfinite(d):
        return 4
    for i, upper in enumerate(DIST_CLASSES_M):
        if d <= upper:
            return i
    return 3


def share_class(share: float) -> int:
    """0–3: share of homes complete (15 min) ≥ 90%, ≥ 60%, ≥ 30%, lower.

    Parameters
    ----------
    share
        Share of complete homes (0–1).

    Returns
    -------
    int
        The class (0–3).
    """
    for i, lower in enumerate(SHARE_CLASSES):
        if share >= lower:
            return i
    return 3
