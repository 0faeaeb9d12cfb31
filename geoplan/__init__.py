"""geoplan: check Chinese city plan targets against real OpenStreetMap geography.

Data © OpenStreetMap contributors (ODbL).
"""

from __future__ import annotations

from geoplan._errors import (
    CRSError,
    DownloadError,
    GeoplanError,
    InputFileError,
    LayerError,
    ScenarioError,
    TargetSheetError,
)
from geoplan.city import City, LoadReport, demo_path, load_city
from geoplan.network.graph import WalkNetwork

__version__ = "0.1.0"

__all__ = [
    "CRSError",
    "City",
    "DownloadError",
    "GeoplanError",
    "InputFileError",
    "LayerError",
    "LoadReport",
    "ScenarioError",
    "TargetSheetError",
    "WalkNetwork",
    "__version__",
    "demo_path",
    "load_city",
]
