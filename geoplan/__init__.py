"""geoplan: check Chinese city plan targets against real OpenStreetMap geography.

The public API, declared once here::

    import geoplan
    city = geoplan.load_city("demo")                      # the embedded Helsinki extract
    result = geoplan.check_city(city, sheet="anyang-2023")
    m = geoplan.build_map(city, homes=result.homes)       # offline folium map

Pipeline stages live in one folder each: ``io`` (OSM, plan layers, population, CRS), ``rules``
(data files), ``network`` (walk graph, access, caches), ``indicators`` (registry + one pure
function each), ``scoring`` (target sheets, scorecard, :func:`check_city`), ``scenario``,
``siting`` (where to build), ``outputs`` (tables, maps), ``cli``.

Data © OpenStreetMap contributors (ODbL).
"""

from __future__ import annotations

from geoplan._errors import (
    CRSError,
    DownloadError,
    GeoplanError,
    InputFileError,
    LayerError,
    OutputError,
    ScenarioError,
    TargetSheetError,
)
from geoplan._version import __version__
from geoplan.city import City, LoadReport, Study, demo_path, load_city, with_pois
from geoplan.network.cache import AccessCache
from geoplan.network.graph import WalkNetwork
from geoplan.outputs.scenario_set import write_scenario
from geoplan.outputs.webmap import build_map, save_map
from geoplan.scenario import Scenario, ScenarioResult, ScenarioSession, load_scenario_file
from geoplan.scoring.check import CheckResult, check_city
from geoplan.scoring.targets import TargetSheet, list_target_sheets, load_target_sheet

__all__ = [
    "AccessCache",
    "CRSError",
    "CheckResult",
    "City",
    "DownloadError",
    "GeoplanError",
    "InputFileError",
    "LayerError",
    "LoadReport",
    "OutputError",
    "Scenario",
    "ScenarioError",
    "ScenarioResult",
    "ScenarioSession",
    "Study",
    "TargetSheet",
    "TargetSheetError",
    "WalkNetwork",
    "__version__",
    "build_map",
    "check_city",
    "demo_path",
    "list_target_sheets",
    "load_city",
    "load_scenario_file",
    "load_target_sheet",
    "save_map",
    "with_pois",
    "write_scenario",
]
