"""Static maps of a 城市体检 chapter (matplotlib, offline).

One per failing coverage indicator, and a per-unit choropleth — each with its legend, a scale
bar, a north arrow and the data date.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
from shapely.geometry.base import BaseGeometry

from geoplan.city import City
from geoplan.names import Method, method_label
from geoplan.outputs.formats import ATTRIBUTION

#: one colour per method (buffer blue, walking orange), the same on every map of the chapter
METHOD_COLOURS = {Method.BUFFER: "#3182bd", Method.NETWORK: "#e6550d"}


def _scale_and_north(ax: Any, bounds: tuple[float, float, float, float]) -> None:
    """A metric scale bar (a round length near a fifth of the width) and a north arrow."""
    x0, y0, x1, y1 = bounds
    width = x1 - x0
    nice = [100, 200, 500, 1000, 2000, 5000, 10000, 20000]
    length = max(v for v in nice if v <= max(width / 5, 100))
    bx, by = x0 + 0.04 * width, y0 + 0.04 * (y1 - y0)
    ax.plot([bx, bx + length], [by, by], color="black", lw=2.5, solid_capstyle="butt")
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length} m"
    ax.text(bx + length / 2, by + 0.015 * (y1 - y0), label, ha="center", fontsize=7)
    nx, ny = x1 - 0.06 * width, y1 - 0.12 * (y1 - y0)
    ax.annotate(
        "N",
        xy=(nx, ny + 0.08 * (y1 - y0)),
        xytext=(nx, ny),
        ha="center",
        fontsize=9,
        weight="bold",
        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5},
    )


def _base(ax: Any, city: City, area: BaseGeometry | None) -> None:
    if area is not None:
        gpd.GeoSeries([area], crs=city.crs).plot(ax=ax, color="#f3efe6", lw=0)
    if len(city.residential):
        city.residential.plot(ax=ax, color="#d9d9d9", lw=0)
    if len(city.roads):
        city.roads.plot(ax=ax, color="#8c8c8c", lw=0.2)


def coverage_map(
    city: City,
    result: Any,
    covers: dict[str, BaseGeometry],
    title: str,
    path: Path,
    *,
    lang: str,
    data_date: str,
) -> Path | None:
    """Both methods' coverage of one measure side by side (buffer, walking), or ``None``.

    ``covers``: the coverage area of each method (metric CRS); a method without one is drawn
    with the base layers only.

    Parameters
    ----------
    city, result
        The checked city (metric CRS) and its check (built-up area).
    covers
        Coverage area of each method (``buffer``, ``network``).
    title, path
        The map's title and the PNG to write.
    lang, data_date
        ``zh`` or ``en``; the OSM data date printed on the map.

    Returns
    -------
    Path or None
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.patches as mpatches
    import matplotlib.pyplot as plt

    by_method = {m: covers.get(str(m)) for m in METHOD_COLOURS}
    if all(c is None or c.is_empty for c in by_method.values()):
        return None
    zh = lang == "zh"
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.4), dpi=120)
    bnd = gpd.GeoSeries([city.boundary_polygon], crs=city.crs)
    bounds: tuple[float, float, float, float] = tuple(city.boundary_polygon.bounds)
    for ax, (method, cover) in zip(axes, by_method.items(), strict=True):
        _base(ax, city, result.area)
        if cover is not None and not cover.is_empty:
            gpd.GeoSeries([cover], crs=city.crs).plot(
                ax=ax, color=METHOD_COLOURS[method], alpha=0.45, lw=0
            )
        bnd.boundary.plot(ax=ax, color="black", lw=0.8)
        pad = 0.03 * max(bounds[2] - bounds[0], bounds[3] - bounds[1])
        ax.set_xlim(bounds[0] - pad, bounds[2] + pad)  # the study area, not the buffers' reach
        ax.set_ylim(bounds[1] - pad, bounds[3] + pad)
        ax.set_aspect("equal")
        ax.set_title(method_label(method, "zh" if zh else "en"), fontsize=10)
        ax.set_axis_off()
        _scale_and_north(ax, bounds)
    legend = [
        mpatches.Patch(color=METHOD_COLOURS[Method.BUFFER], alpha=0.45,
                       label="服务半径覆盖（缓冲区）" if zh else "covered (buffer)"),
        mpatches.Patch(color=METHOD_COLOURS[Method.NETWORK], alpha=0.45,
                       label="步行可达覆盖（步行网络）" if zh else "covered (walking)"),
        mpatches.Patch(color="#d9d9d9", label="居住用地" if zh else "residential land"),
        mpatches.Patch(facecolor="white", edgecolor="black",
                       label="研究范围" if zh else "study area"),
    ]  # fmt: skip
    fig.legend(handles=legend, loc="lower center", ncol=4, fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=11)
    when = f"数据日期 {data_date}" if zh else f"data {data_date}"
    fig.text(0.01, 0.01, when, fontsize=7, color="#555")
    fig.text(0.99, 0.01, ATTRIBUTION, ha="right", fontsize=7, color="#555")
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    fig.savefig(path)
    plt.close(fig)
    return path


def unit_map(
    units: gpd.GeoDataFrame, column: str, title: str, path: Path, *, lang: str, data_date: str
) -> Path:
    """A choropleth of one share per unit (5 classes of 20 %), each unit named.

    Parameters
    ----------
    units
        Units with the share column (metric CRS).
    column, title, path
        The share column, the title and the PNG to write.
    lang, data_date
        ``zh`` or ``en``; the OSM data date printed on the map.

    Returns
    -------
    Path
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.patches as mpatches
    import matplotlib.pyplot as plt

    ramp = ("#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641")
    fig, ax = plt.subplots(figsize=(8, 7), dpi=120)
    share = units[column].astype(float).to_numpy()
    cls = np.clip((np.nan_to_num(share, nan=-1) * 5).astype(int), 0, 4)
    colours = [ramp[c] if s == s else "#bdbdbd" for c, s in zip(cls, share, strict=True)]
    units.plot(ax=ax, color=colours, edgecolor="#555", lw=0.5)
    for name, g in zip(units["unit"], units.geometry.values, strict=True):
        p = g.representative_point()
        ax.text(p.x, p.y, str(name), fontsize=6, ha="center", va="center")
    ax.set_axis_off()
    _scale_and_north(ax, tuple(units.total_bounds))
    zh = lang == "zh"
    legend = [
        mpatches.Patch(color=c, label=f"{20 * k}–{20 * k + 20}%") for k, c in enumerate(ramp)
    ] + [mpatches.Patch(color="#bdbdbd", label="无居住用地" if zh else "no residential land")]
    ax.legend(handles=legend, loc="lower right", fontsize=7, title=title[:30], title_fontsize=7)
    ax.set_title(title, fontsize=10)
    when = f"数据日期 {data_date}" if zh else f"data {data_date}"
    fig.text(0.01, 0.01, when, fontsize=7, color="#555")
    fig.text(0.99, 0.01, ATTRIBUTION, ha="right", fontsize=7, color="#555")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
