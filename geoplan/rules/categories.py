"""Facility category keys the life circles and target sheets may name."""

from __future__ import annotations

#: Facility category keys the life circles may require. They mirror the facility taxonomy data
#: file; a key missing there is a typo here.
FACILITY_CATEGORIES: frozenset[str] = frozenset(
    {
        "kindergarten",
        "primary_school",
        "middle_school",
        "school_unknown",
        "health_centre",
        "clinic",
        "pharmacy",
        "elderly_care",
        "elderly_day_care",
        "culture_centre",
        "library",
        "community_service",
        "sports_large",
        "sports_small",
        "mall",
        "food_market",
        "supermarket",
        "convenience",
        "restaurant",
        "bank_post",
        "toilet",
        "waste",
        "bus_stop",
        "park",
        "green",
    }
)
