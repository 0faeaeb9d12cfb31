"""The City stage: a city in metric layers, its homes and residents, POIs, and the :class:`Study`.

- :mod:`~geoplan.city.model`: :class:`City` and :func:`load_city` (OSM → metric layers + walk
  network);
- :mod:`~geoplan.city.homes`: the homes coverage is measured from;
- :mod:`~geoplan.city.population`: census / raster / cell population on homes
  (:func:`check_homes`);
- :mod:`~geoplan.city.pois`: AMap / Baidu POI exports as facilities (:func:`with_pois`);
- :mod:`~geoplan.city.units`: the units of per-unit tables;
- :mod:`~geoplan.city.study`: :class:`Study`, every input of a check, validated once.
"""

from geoplan.city.homes import homes_from_city, homes_from_population
from geoplan.city.model import City, LoadReport, clip_layer, demo_path, load_city, share_osm_reads
from geoplan.city.pois import with_pois
from geoplan.city.population import check_homes
from geoplan.city.study import Study, StudyError
from geoplan.city.units import grid_units, units_layer

__all__ = [
    "City",
    "LoadReport",
    "Study",
    "StudyError",
    "check_homes",
    "clip_layer",
    "demo_path",
    "grid_units",
    "homes_from_city",
    "homes_from_population",
    "load_city",
    "share_osm_reads",
    "units_layer",
    "with_pois",
]
