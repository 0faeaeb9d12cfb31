"""Reading inputs.

OSM extracts, Overpass downloads, planners' layers, population; CRS choice; GCJ-02 / BD-09
conversion.
"""
