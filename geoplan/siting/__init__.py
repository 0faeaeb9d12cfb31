"""Where to build: sites that bring a coverage indicator to its target (``geoplan suggest``).

- :mod:`~geoplan.siting.candidates`: candidate sites (street points, park plots, a planner's layer);
- :mod:`~geoplan.siting.problem`: demand and coverage matrices, by buffer or walking distance;
- :mod:`~geoplan.siting.solve`: greedy maximal covering and the exact model (HiGHS);
- :mod:`~geoplan.siting.spec`: what is sited (:func:`spec_of`) and how a sheet scores it;
- :mod:`~geoplan.siting.suggest`: :func:`suggest_sites` for one indicator of the registry;
- :mod:`~geoplan.siting.output`: the plan layer (GPKG) and a scenario YAML for ``geoplan run``.
"""

from geoplan.siting.spec import SitingSpec, spec_of
from geoplan.siting.suggest import SitingResult, suggest_sites

__all__ = ["SitingResult", "SitingSpec", "spec_of", "suggest_sites"]
