"""geoplan's version (one place; ``geoplan.__version__`` re-exports it)."""

__version__ = "0.1.0"
