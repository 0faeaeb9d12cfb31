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
from geoplan.outputs.map_style import (
    OSM_ATTRIBUTION,
    TEXT,
    Lang,
    esc,
)


def line_swatch(style: Mapping[str, Any], label: str) -> str:
    h = max(1, int(style.get("weight", 2)))
    return (
        f'<i style="display:inline-block;width:22px;height:{h}px;background:{style["color"]};'
        f'vertical-align:middle;margin-right:6px"></i>{esc(label)}'
    )


def area_swatch(style: Mapping[str, Any], label: str) -> str:
    border = "dashed" if style.get("dashArray") else "solid"
    fill = style.get("fillColor", "transparent") if style.get("fill", True) else "transparent"
    return (
        f'<i style="display:inline-block;width:16px;height:12px;background:{fill};opacity:.75;'
        f'border:2px {border} {style["color"]};vertical-align:middle;margin-right:6px"></i>'
        f"{esc(label)}"
    )


def point_swatch(colour: str, label: str) -> str:
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
      "Microsoft YaHei",sans-serif;max-height:45vh;overflow:auto;}
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
    """Legend as a Leaflet control (bottom right); sections are added while layers are drawn."""

    _template = _CONTROL_TEMPLATE

    def __init__(self, lang: Lang) -> None:
        super().__init__()
        self._name = "Legend"
        self.position = "bottomright"
        self.css_class = "geoplan-panel geoplan-legend"
        self.title = TEXT[lang]["legend"]
        self.sections: list[tuple[str | None, list[str]]] = []

    def add_section(self, title: str | None, items: list[str]) -> None:
        """``items`` are HTML snippets built from escaped labels."""
        if items:
            self.sections.append((title, items))

    @property
    def html(self) -> str:
        parts = [f"<details open><summary>{esc(self.title)}</summary>"]
        for title, items in self.sections:
            if title:
                parts.append(f'<div class="sec">{esc(title)}</div>')
            parts.extend(f"<div>{item}</div>" for item in items)
        parts.append("</details>")
        return "".join(parts)


_MET = {"met", "pass", "ok", "true", "yes", "达标", "满足"}


_NOT_MET = {"not_met", "not met", "fail", "false", "no", "未达标", "不满足"}


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
    """The scorecard table as a collapsible Leaflet control (bottom left)."""

    _template = _CONTROL_TEMPLATE
    required = ("measured", "target", "status")

    def __init__(self, table: pd.DataFrame, lang: Lang) -> None:
        super().__init__()
        missing = [c for c in self.required if c not in table.columns]
        if missing:
            raise LayerError(
                f"scorecard: missing column(s) {', '.join(missing)}; pass the table returned by "
                "geoplan's scorecard (indicator, label_zh, label_en, measured, target, status, gap)"
            )
        self._name = "ScorecardPanel"
        self.position = "bottomleft"
        self.css_class = "geoplan-panel geoplan-scorecard"
        self.table = table
        self.lang = lang

    @property
    def html(self) -> str:
        t = TEXT[self.lang]
        label_col = f"label_{self.lang}"
        cols = ["measured", "target", "status"] + (["gap"] if "gap" in self.table else [])
        head = "".join(f"<th>{esc(t[c])}</th>" for c in ["indicator", *cols])
        rows = []
        for _, r in self.table.iterrows():
            label = r.get(label_col) or r.get("indicator", "")
            cells = [f"<td>{_cell(label)}</td>"]
            for c in cols:
                if c == "status":
                    cells.append(_status_cell(r[c], t))
                else:
                    cells.append(f"<td>{_cell(r[c])}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        return (
            f"<details open><summary>{esc(t['scorecard'])}</summary>"
            f"<table><tr>{head}</tr>{''.join(rows)}</table></details>"
        )


def _status_cell(value: Any, t: Mapping[str, str]) -> str:
    key = str(value).strip().lower()
    if key in _MET:
        return f'<td class="met">✓ {esc(t["met"])}</td>'
    if key in _NOT_MET:
        return f'<td class="not_met">✗ {esc(t["not_met"])}</td>'
    return f"<td>{_cell(value)}</td>"


class Attribution(MacroElement):
    """ "© OpenStreetMap contributors" in the attribution control, whatever the basemap."""

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
