"""Scenarios: the baseline city plus a plan's layers, run through the same pipeline and compared."""

from geoplan.scenario.changes import Change, ChangeLog
from geoplan.scenario.compare import ScenarioResult, compare, grid_units
from geoplan.scenario.files import load_scenario_file
from geoplan.scenario.model import Scenario
from geoplan.scenario.session import ScenarioSession, run_scenario

__all__ = [
    "Change",
    "ChangeLog",
    "Scenario",
    "ScenarioResult",
    "ScenarioSession",
    "compare",
    "grid_units",
    "load_scenario_file",
    "run_scenario",
]
