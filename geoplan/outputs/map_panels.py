"""Map panels: legend, scorecard, attribution; reading result layers for the CLI."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from geoplan._errors import LayerError
from geoplan.names import Status, status_label
from geoplan.outputs.map_style import (
    OSM_ATTRIBUTION,
    TEXT,
    Lang,
    esc,
)


def line_swatch(style: Mapping[str, Any], label: str) -> str:
    """Legend entry: a line sample and its label (escaped).

    Parameters
    ----------
    style
        Leaflet path options of the layer (``color``, ``weight``).
    label
        Its label (escaped here).

    Returns
    -------
    str
        HTML snippet.
    """
    h = max(1, int(style.get("weight", 2)))
    return (
        f'<i style="display:inline-block;width:22px;height:{h}px;background:{style["color"]};'
        f'vertical-align:middle;margin-right:6px"></i>{esc(label)}'
    )


def area_swatch(style: Mapping[str, Any], label: str) -> str:
    """Legend entry: an area sample and its label (escaped).

    Parameters
    ----------
    style
        Leaflet path options of the layer (``color``, ``fillColor``, ``dashArray``).
    label
        Its label (escaped here).

    Returns
    -------
    str
        HTML snippet.
    """
    border = "dashed" if style.get("dashArray") else "solid"
    fill = style.get("fillColor", "transparent") if style.get("fill", True) else "transparent"
    return (
        f'<i style="display:inline-block;width:16px;height:12px;background:{fill};opacity:.75;'
        f'border:2px {border} {style["color"]};vertical-align:middle;margin-right:6px"></i>'
        f"{esc(label)}"
    )


def point_swatch(colour: str, label: str) -> str:
    """Legend entry: a point sample and its label (escaped).

    Parameters
    ----------
    colour
        Marker colour (CSS).
    label
        Its label (escaped here).

    Returns
    -------
    str
        HTML snippet.
    """
    return (
        f'<i style="display:inline-block;width:10px;height:10px;border-radius:50%;'
        f'background:{colour};vertical-align:middle;margin:0 8px 0 3px"></i>{esc(label)}'
    )


_CONTROL_TEMPLATE = Template(
    """
    {% macro header(this, kwargs) %}
    <style>
    .geoplan-panel {background:rgba(255,255,255,.94);padding:6px 9px;border-radius:5px;
      box-shadow:0 1px 5px rgba(0,0,0,.35);font:12px/1.45 system-ui,"Noto Sans CJK SC",
      "Microsoft YaHei",sans-serif;max-height:60vh;max-width:44vw;overflow:auto;}
    .geoplan-title {max-width:40vw;}
    .geoplan-title .t {font-size:15px;font-weight:700;}
    .geoplan-title .s {color:#444;}
    .geoplan-title .n {color:#b00020;font-weight:600;}
    .geoplan-panel summary {font-weight:600;cursor:pointer;}
    .geoplan-panel .sec {font-weight:600;margin-top:4px;}
    .geoplan-panel table {border-collapse:collapse;}
    .geoplan-panel td,.geoplan-panel th {padding:1px 6px;border-bottom:1px solid #ddd;
      text-align:left;}
    .geoplan-panel .met {color:#1a7f37;font-weight:600;}
    .geoplan-panel .not_met {color:#c62828;font-weight:600;}
    </style>
    {% endmacro %}
    {% macro script(this, kwargs) %}
    (function(){
      var ctl = L.control({position: {{ this.position|tojson }}});
      ctl.onAdd = function() {
        var div = L.DomUtil.create("div", {{ this.css_class|tojson }});
        div.innerHTML = {{ this.html|tojson }};
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
      };
      ctl.addTo({{ this._parent.get_name() }});
    })();
    {% endmacro %}
    """
)


class Legend(MacroElement):
    """Legend as a Leaflet control (bottom right); sections are added while layers are drawn.

    Parameters
    ----------
    lang : str
        Language of the labels: ``zh`` or ``en``.
    """

    _template = _CONTROL_TEMPLATE

    def __init__(self, lang: Lang) -> None:
        super().__init__()
        self._name = "Legend"
        self.position = "bottomright"
        self.css_class = "geoplan-panel geoplan-legend"
        self.title = TEXT[lang]["legend"]
        self.sections: list[tuple[str | None, list[str]]] = []

    def add_section(self, title: str | None, items: list[str]) -> None:
        """``items`` are HTML snippets built from escaped labels.

        Parameters
        ----------
        title
            Section title (escaped when drawn), or ``None``.
        items
            Swatches (:func:`line_swatch` …).
        """
        if items:
            self.sections.append((title, items))

    @property
    def html(self) -> str:
        """The legend's HTML (every label escaped).

        Returns
        -------
        str
            The legend's HTML.
        """
        parts = [f"<details open><summary>{esc(self.title)}</summary>"]
        for title, items in self.sections:
            if title:
                parts.append(f'<div class="sec">{esc(title)}</div>')
            parts.extend(f"<div>{item}</div>" for item in items)
        parts.append("</details>")
        return "".join(parts)


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return esc(value)
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        return esc(f"{float(value):,.4g}") if math.isfinite(value) else "∞"
    return esc(value)


class Scorecard(MacroElement):
    """The scorecard table as a collapsible Leaflet control (bottom left).

    ``table`` comes from :func:`geoplan.outputs.map_result.scorecard_rows` (a check) or
    :func:`~geoplan.outputs.map_result.change_rows` (a scenario: baseline → plan), values already
    formatted; ``status`` columns hold :class:`geoplan.names.Status` values.

    Parameters
    ----------
    table
        Formatted scorecard rows.
    lang : str
        Language of the labels: ``zh`` or ``en``.
    """

    _template = _CONTROL_TEMPLATE
    required = ("target",)

    def __init__(self, table: pd.DataFrame, lang: Lang) -> None:
        super().__init__()
        change = "status_baseline" in table.columns
        need = (
            ("baseline", "plan", "status_baseline", "status_plan")
            if change
            else ("measured", "status")
        )
        missing = [c for c in (*self.required, *need) if c not in table.columns]
        if missing:
            raise LayerError(
                f"scorecard: missing column(s) {', '.join(missing)}; pass the rows of "
                "geoplan.outputs.map_result.scorecard_rows (or change_rows for a scenario)"
            )
        self._name = "ScorecardPanel"
        self.position = "bottomleft"
        self.css_class = "geoplan-panel geoplan-scorecard"
        self.table = table
        self.lang = lang
        self.columns: tuple[str, ...] = (
            ("baseline", "plan", "delta", "target", "status_change")
            if change
            else ("measured", "target", "status", "gap")
        )

    @property
    def html(self) -> str:
        """The panel's HTML (every value escaped).

        Returns
        -------
        str
            The panel's HTML.
        """
        t = TEXT[self.lang]
        label_col = f"label_{self.lang}"
        cols = [c for c in self.columns if c in self.table.columns or c == "status_change"]
        head = "".join(f"<th>{esc(t[c])}</th>" for c in ["indicator", *cols])
        rows = []
        for _, r in self.table.iterrows():
            label = r.get(label_col) or r.get("indicator", "")
            cells = [f"<td>{_cell(label)}</td>"]
            for c in cols:
                if c == "status":
                    cells.append(_status_cell(r[c], self.lang))
                elif c == "status_change":
                    cells.append(_change_cell(r["status_baseline"], r["status_plan"], self.lang))
                elif c == "measured" and str(r[c]).startswith("≤") and r.get("note"):
                    # an upper bound only: the missing categories and the fix on hover
                    cells.append(f'<td title="{esc(r["note"])}">{_cell(r[c])} ⓘ</td>')
                else:
                    cells.append(f"<td>{_cell(r[c])}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        st_col = "status_plan" if "status_plan" in self.table.columns else "status"
        st = self.table[st_col].astype(str) if st_col in self.table.columns else pd.Series([])
        n_pass, n_fail = int((st == Status.PASS).sum()), int((st == Status.FAIL).sum())
        count = f"✓ {n_pass} · ✗ {n_fail}"
        return (
            f"<details><summary>{esc(t['scorecard'])} {esc(count)}</summary>"
            f"<table><tr>{head}</tr>{''.join(rows)}</table></details>"
        )


_MARK: dict[str, tuple[str, str]] = {Status.PASS: ("met", "✓ "), Status.FAIL: ("not_met", "✗ ")}


def _status_text(value: Any, lang: Lang) -> tuple[str, str]:
    """(css class, escaped text) of a status value."""
    cls, mark = _MARK.get(str(value), ("", ""))
    return cls, mark + esc(status_label(value, lang))


def _status_cell(value: Any, lang: Lang) -> str:
    cls, text = _status_text(value, lang)
    return f'<td class="{cls}">{text}</td>' if cls else f"<td>{text}</td>"


def _change_cell(before: Any, after: Any, lang: Lang) -> str:
    _, b = _status_text(before, lang)
    cls, a = _status_text(after, lang)
    return f'<td class="{cls}">{b} → {a}</td>' if cls else f"<td>{b} → {a}</td>"


class Attribution(MacroElement):
    """Add "© OpenStreetMap contributors" to the attribution control, whatever the basemap."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "Attribution"
        self.text = OSM_ATTRIBUTION


class TitleBlock(MacroElement):
    """Title block (top left): title, subtitle (sheet, date), data sources, an optional note.

    ``note``: e.g. a 审图号 or "内部资料 · 不得外传". Every text is escaped.

    Parameters
    ----------
    title
        The map's title.
    lines
        Subtitle lines (empty ones skipped).
    note
        A note under them, or ``None``.
    """

    _template = _CONTROL_TEMPLATE

    def __init__(self, title: str, lines: list[str], note: str | None = None) -> None:
        super().__init__()
        self._name = "TitleBlock"
        self.position = "topleft"
        self.css_class = "geoplan-panel geoplan-title"
        parts = [f'<div class="t">{esc(title)}</div>']
        parts += [f'<div class="s">{esc(x)}</div>' for x in lines if x]
        if note:
            parts.append(f'<div class="n">{esc(note)}</div>')
        self.html = "".join(parts)


class FitAroundPanels(MacroElement):
    """Fit the study area in the part of the map the panels leave free, once they are drawn.

    The title (top left) and layer control (top right) take a band at the top, the legend a band
    on the right, the collapsed scorecard a band at the bottom; the study area's bounds are fitted
    inside what is left, so no panel covers it. Also: a metric-only scale bar (the attribution
    prefix without its flag is every :class:`~geoplan.outputs.map_style.GeoplanMap`'s).
    ``window.geoplanMap`` / ``geoplanBounds`` expose both to tests.

    Parameters
    ----------
    bounds
        ``[[south, west], [north, east]]`` of the study area (degrees).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(){
          var m = {{ this._parent.get_name() }};
          var b = L.latLngBounds({{ this.bounds|tojson }});
          window.geoplanMap = m; window.geoplanBounds = b;
          L.control.scale({imperial: false, metric: true, position: "bottomleft"}).addTo(m);
          function fit(){
            var c = m.getContainer(), r = c.getBoundingClientRect();
            function q(sel){  // a panel's box; a hidden panel takes no room
              var e = c.querySelector(sel), b = e ? e.getBoundingClientRect() : null;
              return b && b.width > 0 && b.height > 0 ? b : null;
            }
            var t = q(".geoplan-title"), lc = q(".geoplan-layers"),
                lg = q(".geoplan-legend"), sc = q(".geoplan-scorecard"),
                sb = q(".leaflet-control-scale");
            var top = Math.max(t ? t.bottom - r.top : 0, lc ? lc.bottom - r.top : 0) + 10;
            var right = (lg ? r.right - lg.left : 0) + 10;
            var bottom = Math.max(sc ? r.bottom - sc.top : 0, sb ? r.bottom - sb.top : 0) + 10;
            m.fitBounds(b, {paddingTopLeft: [10, top], paddingBottomRight: [right, bottom],
                            animate: false});
          }
          m.options.zoomSnap = 0.25;
          setTimeout(fit, 0);
          window.addEventListener("resize", fit);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, bounds: list[list[float]]) -> None:
        super().__init__()
        self._name = "FitAroundPanels"
        self.bounds = bounds


#: entries of the grouped layer control, in order: key -> (zh, en, kind)
LAYER_GROUPS: dict[str, tuple[str, str, str]] = {
    "cov_network": ("覆盖范围（步行网络）", "Coverage (walking network)", "check"),
    "cov_buffer": ("覆盖范围（缓冲区）", "Coverage (buffer)", "check"),
    "gaps": ("未覆盖居住用地", "Residential land not covered", "check"),
    "gap_causes": ("步行未达原因（缓冲区内）", "Why walking falls short", "check"),
    "homes": ("住宅", "Homes", "check"),
    "homes_dist": ("住宅至各类设施距离", "Homes: distance to a facility", "select"),
    "plan": ("规划方案", "Plan", "check"),
    "roads": ("道路", "Roads", "check"),
    "parks": ("公园绿地", "Parks and green", "check"),
    "services": ("公共服务设施与公交站点", "Facilities and bus stops", "check"),
    "other": ("其他", "Other", "check"),
}


class GroupedLayers(MacroElement):
    """A layer control of a few groups (≤ 8 on a check map) instead of one entry per layer.

    Each group toggles all its layers; a group's layers can be switched one by one inside it; the
    per-category home distances are one group with a drop-down (one category at a time). Layers
    are grouped by the ``geoplan_group`` attribute :func:`geoplan.outputs.map_layers.add_geojson`
    sets; the study boundary stays on. Labels are escaped.

    Parameters
    ----------
    layers
        The map's overlays (:meth:`~geoplan.outputs.map_style.GeoplanMap.overlays`).
    lang : str
        Language of the labels: ``zh`` or ``en``.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(){
          var m = {{ this._parent.get_name() }};
          var groups = {{ this.groups|tojson }};
          var ctl = L.control({position: "topright"});
          ctl.onAdd = function() {
            var div = L.DomUtil.create("div", "geoplan-panel geoplan-layers");
            var html = "<details><summary>" + {{ this.title|tojson }} + "</summary>";
            groups.forEach(function(g, gi) {
              var on = g.items.some(function(it) { return it.show; });
              html += '<div class="sec"><label><input type="checkbox" data-g="' + gi + '"' +
                      (on ? " checked" : "") + "> " + g.label + "</label></div>";
              if (g.kind === "select") {
                html += '<div style="margin-left:18px"><select data-s="' + gi + '">' +
                        '<option value="-1">—</option>';
                g.items.forEach(function(it, ii) {
                  html += '<option value="' + ii + '">' + it.label + "</option>";
                });
                html += "</select></div>";
              } else if (g.items.length > 1) {
                html += '<details style="margin-left:18px"><summary>' + g.items.length +
                        "</summary>";
                g.items.forEach(function(it, ii) {
                  html += '<div><label><input type="checkbox" data-g="' + gi + '" data-i="' +
                          ii + '"' + (it.show ? " checked" : "") + "> " + it.label +
                          "</label></div>";
                });
                html += "</details>";
              }
            });
            div.innerHTML = html + "</details>";
            function layer(it) { return window[it.v]; }
            function set(it, on) {
              var l = layer(it); if (!l) return;
              if (on && !m.hasLayer(l)) m.addLayer(l);
              if (!on && m.hasLayer(l)) m.removeLayer(l);
            }
            div.addEventListener("change", function(e) {
              var el = e.target, g = groups[+el.getAttribute("data-g")];
              if (el.tagName === "SELECT") {
                g = groups[+el.getAttribute("data-s")];
                g.items.forEach(function(it, ii) { set(it, ii === +el.value); });
                div.querySelector('input[data-g="' + el.getAttribute("data-s") + '"]').checked =
                  +el.value >= 0;
                return;
              }
              var ii = el.getAttribute("data-i");
              if (ii !== null) { g.items[+ii].show = el.checked; set(g.items[+ii], el.checked);
                                 return; }
              if (g.kind === "select") {
                var sel = div.querySelector('select[data-s="' + el.getAttribute("data-g") + '"]');
                if (!el.checked) { sel.value = "-1"; }
                else if (+sel.value < 0) { sel.value = "0"; }
                g.items.forEach(function(it, k) { set(it, el.checked && k === +sel.value); });
                return;
              }
              g.items.forEach(function(it) { set(it, el.checked && (it.show || !g.items.some(
                function(x) { return x.show; }))); });
            });
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
          };
          ctl.addTo(m);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, layers: list[Any], lang: Lang) -> None:
        super().__init__()
        self._name = "LayerControl"
        self.title = "图层" if lang == "zh" else "Layers"
        by: dict[str, list[dict[str, Any]]] = {}
        for lyr in layers:
            g = getattr(lyr, "geoplan_group", "other")
            if g == "boundary":
                continue
            by.setdefault(g if g in LAYER_GROUPS else "other", []).append(
                # layer names are escaped where the layers are made
                {"label": str(lyr.layer_name), "v": lyr.get_name(), "show": bool(lyr.show)}
            )
        i = 0 if lang == "zh" else 1
        self.groups = [
            {"label": esc(LAYER_GROUPS[k][i]), "kind": LAYER_GROUPS[k][2], "items": by[k]}
            for k in LAYER_GROUPS
            if k in by
        ]
