"""Readers of results: tables, GeoPackages, offline web maps, change maps."""
