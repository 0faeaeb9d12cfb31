"""安阳 2023 bus stops on the demo city, as a Python scenario: the greedy planner's stops."""

from __future__ import annotations

import geoplan
from geoplan.planning.bus_stops import plan_bus_stops
from geoplan.scenario.model import Scenario

CITY = {"osm": "demo"}
TARGETS = "anyang-2023"


def build(city: geoplan.City) -> Scenario:
    stops = plan_bus_stops(city, radius_m=500, method="network", over="boundary")
    return Scenario("demo_anyang_bus", targets=TARGETS).add_bus_stops(stops)
