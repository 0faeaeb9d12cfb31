"""Facility category keys the life circles and target sheets may name."""

from __future__ import annotations

from geoplan.rules.taxonomy import categories

#: Facility category keys the life circles may require: every category of the facility taxonomy
#: data file, plus the layers that are not facilities (bus stops, parks, public green).
FACILITY_CATEGORIES: frozenset[str] = frozenset(categories()) | {"bus_stop", "park", "green"}
