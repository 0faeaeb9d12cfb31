"""Data-file readers: the facility taxonomy (OSM tags → categories) and the life circles."""
