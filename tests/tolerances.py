"""Every numeric tolerance the indicator tests use, in one place.

Each constant says what it bounds and why it is that size. Tests import from here; no test
writes a tolerance literal of its own.
"""

from __future__ import annotations

#: network distance (m): geoplan's CSR search vs the networkx reference graph (issue 3: 1e-6 m)
DIST_ABS_M = 1e-6
#: attachment offset (m): geoplan's nearest edge vs a brute-force min over every edge
OFFSET_ABS_M = 1e-6
#: a distance this close to a search limit is not used to compare "within" / "beyond" sets (m)
LIMIT_MARGIN_M = 1e-6
#: a deliberately perturbed input must move a reference result by more than this (m)
PERTURB_M = 0.5

#: relative tolerance of a buffer/overlay share: both sides run GEOS overlays on the same
#: 16-segment buffers, in a different order (per-feature overlay vs union then intersection)
AREA_REL = 1e-9
#: quad_segs of the buffers (shapely's default is 8; geoplan uses 16 — the tests build theirs
#: with this value and show that 8 gives a different answer)
QUAD_SEGS = 16
#: a share computed by counting 1 m grid points against the true circle, vs the 16-segment
#: polygon buffer: the polygon misses up to 1 − sin(2π/64)/(2π/64) ≈ 0.16 % of a disc's area
GRID_COUNT_ABS = 5e-3

#: shares of homes / of area_m2 recomputed from reference distances (pure float sums)
SHARE_ABS = 1e-12
#: sums of areas and residents (float addition in a different order)
SUM_REL = 1e-9

#: road length (m) and density (km/km²): shapely lengths summed in a different order
LENGTH_REL = 1e-9
#: scorecard gap = measured − target, recomputed by hand
GAP_ABS = 1e-12

#: the refactor regression record (tests/test_regression.py): a figure may not move by more
REGRESSION_ABS = 1e-9
