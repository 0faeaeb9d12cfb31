"""The area of the area-based figures: the built-up area (建成区) a check measures on.

:func:`resolve_built_up` takes the planner's 建成区 polygon, derives one from OSM land use (and a
land-cover raster's built-up class), or falls back on the study area; :func:`area_basis` says in
each area-based row which area it used and its km². Metric CRS of the city throughout.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geoplan._errors import LayerError
from geoplan.city import City
from geoplan.indicators.inputs import Inputs
from geoplan.names import Basis
from geoplan.rules import taxonomy as tx


def resolve_built_up(
    city: City, built_up: BaseGeometry | str | None, *, landcover: str | Path | None = None
) -> tuple[BaseGeometry | None, str]:
    """The area of area-based figures and where it comes from (``file``, ``osm``, study area).

    ``None`` or ``"osm"``: derived from OSM (``None`` area = the study area when nothing urban is
    mapped); ``"study_area"``: the whole study area; a polygon: itself. A land-cover raster
    (``landcover``) adds its built-up class (ESA WorldCover 50) to the derived area.

    Parameters
    ----------
    city
        The city (metric CRS).
    built_up
        A polygon, ``"osm"`` / ``None`` (derived) or ``"study_area"``.
    landcover
        A land-cover raster whose built-up class helps the derivation.

    Returns
    -------
    tuple
        ``(area or None for the study area, its source)``.
    """
    if isinstance(built_up, BaseGeometry):
        return built_up, "file"
    if built_up == "study_area":
        return None, "study_area"
    if built_up not in (None, "osm"):
        raise LayerError(f"built_up must be a polygon, 'osm' or 'study_area', not {built_up!r}")
    if city.urban_land is None:
        return None, "study_area"
    from geoplan.rules.built_up import built_up_area

    derived = built_up_area(city.urban_land, city.roads, city.boundary_polygon)
    if landcover is not None:
        from geoplan.indicators.green_cover import landcover_class_area

        cls = tx.built_up_rule().landcover_class
        lc = landcover_class_area(landcover, city.boundary_polygon, crs=city.crs, value=cls)
        derived = shapely.union(derived, lc) if not lc.is_empty else derived
    if derived.is_empty:
        return None, "study_area (no built-up land in OSM)"
    return derived, "osm"


def area_basis(measures: pd.DataFrame, inputs: Inputs) -> pd.DataFrame:
    """Say which area each area-based row used and its km² (built-up area when given).

    Parameters
    ----------
    measures
        The check's summary rows.
    inputs
        The check's inputs (its built-up area and where it came from).

    Returns
    -------
    DataFrame
        The rows, area-based ones with their basis and a note of the area used.
    """
    area = measures["basis"] == Basis.BOUNDARY_AREA
    if not area.any():
        return measures
    km2 = inputs.boundary.area / 1e6
    out = measures.copy()
    what = {
        "file": "建成区 built-up area",
        "osm": "建成区（OSM推算）built-up area derived from OSM",
    }.get(inputs.built_up_source, "研究范围 study area")
    if inputs.built_up_source.startswith("study_area ("):
        what += " (no built-up land in OSM)"
    if inputs.built_up is not None:
        out.loc[area, "basis"] = str(Basis.BUILT_UP_AREA)
    note = f"{what} {km2:,.2f} km²"
    out.loc[area, "note"] = [f"{n}; {note}" if n else note for n in out.loc[area, "note"]]
    return out
