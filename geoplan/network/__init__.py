"""The walk network as CSR arrays: building, editing, attachment, access, caches."""

from geoplan.network.graph import WalkNetwork

__all__ = ["WalkNetwork"]
