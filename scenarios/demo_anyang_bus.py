"""安阳 2023 bus stops on the demo city, as a Python scenario: the stops `geoplan suggest` picks.

Network 500 m coverage of the study area (the bus indicator's 100 m grid) brought to 100 % by
greedy maximal covering over candidates every 50 m along the streets (:mod:`geoplan.siting`).
"""

from __future__ import annotations

import geoplan
from geoplan.scenario.model import Scenario
from geoplan.siting import spec_of, suggest_sites

CITY = {"osm": "demo"}
TARGETS = "anyang-2023"


def build(city: geoplan.City) -> Scenario:
    spec = spec_of(
        "bus_stop_coverage", radius_m=500, method="network", basis="boundary_area", target=1.0
    )
    stops = suggest_sites(city, spec=spec).sites
    return Scenario("demo_anyang_bus", targets=TARGETS).add_bus_stops(stops)
