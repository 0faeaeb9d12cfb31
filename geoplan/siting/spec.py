"""What is sited and how a target sheet scores it: :class:`SitingSpec`, :func:`spec_of`.

The options of ``geoplan suggest`` (indicator, radius, method, basis, target, category) checked and
completed from the registry, ``life_circles.yaml`` and a target sheet's terms.
"""

from __future__ import annotations

from dataclasses import dataclass

from geoplan._errors import LayerError, unknown_message
from geoplan.indicators.registry import REGISTRY
from geoplan.rules import taxonomy as tx
from geoplan.rules.life_circles import load_life_circles
from geoplan.scoring.targets import TargetSheet

#: indicator of the registry -> the layer its sites add to
INDICATOR_KINDS = {
    "bus_stop_coverage": "bus_stops",
    "park_coverage": "parks",
    "life_circle": "facilities",
}

BASES = ("residential_area", "homes", "residents", "boundary_area")


@dataclass(frozen=True)
class SitingSpec:
    """What is sited: indicator, layer kind, radius (m), method, basis, target and options."""

    indicator: str
    kind: str
    radius_m: float
    method: str
    basis: str
    target: float
    category: str | None = None
    green_kind: str = "park"
    min_area_m2: float | None = None

    @property
    def label_zh(self) -> str:
        """Chinese name of one site (规划公交站, 规划公园, 规划幼儿园 …).

        Returns
        -------
        str
        """
        if self.kind == "bus_stops":
            return "规划公交站"
        if self.kind == "parks":
            return "规划公园" if self.green_kind == "park" else "规划口袋公园"
        lab = tx.categories().get(self.category or "")
        return "规划" + (lab.label_zh if lab else str(self.category))


#: the target-sheet indicator scoring what a siting kind adds
_SHEET_INDICATOR = {"bus_stops": "bus_stop_coverage", "park": "park_500m", "green": "green_300m"}


@dataclass(frozen=True)
class SheetTerms:
    """How a target sheet scores what is sited: the basis, the target share and the target."""

    basis: str
    target: float
    target_id: str | None
    label: str


def sheet_terms(
    indicator: str,
    sheet: TargetSheet,
    *,
    method: str,
    radius_m: float | None = None,
    green_kind: str = "park",
    with_population: bool = False,
) -> SheetTerms:
    """The basis and target share the sheet's scorecard uses for this indicator.

    The scorecard shows bus-stop coverage over the 建成区 (``boundary_area`` here: the built-up
    area given to the suggestion, as in the check) and other coverage by buffer over
    residential land, by walking over residents (when known) else residential land; the target
    share is the sheet's for the same measure (bus stops at ``radius_m``, 500米见园 or 300米见绿),
    else 100 %.

    Parameters
    ----------
    indicator
        ``bus_stop_coverage``, ``park_coverage`` or ``life_circle``.
    sheet
        The target sheet the written scenario is scored against.
    method
        ``buffer`` or ``network``.
    radius_m
        The service radius (bus stops; default the registry's largest).
    green_kind
        ``park`` (500米见园) or ``green`` (300米见绿) for parks.
    with_population
        Whether residents are known (the network basis of the scorecard is then residents).

    Returns
    -------
    SheetTerms
    """
    kind = INDICATOR_KINDS.get(indicator, "")
    if kind == "bus_stops":
        basis = "boundary_area"
    elif method == "buffer":
        basis = "residential_area"
    else:
        basis = "residents" if with_population else "residential_area"
    wanted = _SHEET_INDICATOR.get(green_kind if kind == "parks" else kind)
    if kind == "bus_stops" and radius_m is None:
        radius_m = float(max(REGISTRY["bus_stop_coverage"].params["radii_m"].default))
    for t in sheet.checkable:
        if t.indicator != wanted or t.op not in (">=", ">") or not isinstance(t.value, float):
            continue
        if kind == "bus_stops" and t.number("radius_m", -1) != radius_m:
            continue
        return SheetTerms(basis, min(float(t.value), 1.0), t.id, t.label_zh)
    return SheetTerms(basis, 1.0, None, "")


def spec_of(
    indicator: str,
    *,
    radius_m: float | None,
    method: str,
    basis: str,
    target: float,
    category: str | None = None,
    green_kind: str = "park",
    min_area_m2: float | None = None,
) -> SitingSpec:
    """Check the options and fill the defaults from the registry and life_circles.yaml.

    Parameters
    ----------
    indicator
        The indicator to raise (``bus_stop_coverage``, ``park_500m``, a life-circle category …).
    radius_m
        Radius (m); ``None`` for the registry's.
    method
        ``buffer`` or ``network``.
    basis
        ``homes``, ``residential_area``, ``residents`` or ``boundary_area``.
    target
        Share to reach (0–1).
    category
        Facility category (life-circle indicators).
    green_kind
        ``park`` or ``green``.
    min_area_m2
        Smallest park or plot (m²).

    Returns
    -------
    SitingSpec
    """
    if indicator not in INDICATOR_KINDS:
        raise LayerError(unknown_message("indicator", indicator, list(INDICATOR_KINDS), "suggest"))
    if method not in ("buffer", "network"):
        raise LayerError(f"--method must be buffer or network, not {method!r}")
    if basis not in BASES:
        raise LayerError(unknown_message("basis", basis, BASES, "suggest"))
    if not 0 < target <= 1:
        raise LayerError(f"--target is a share in (0, 1] (1.0 = 100 %), not {target}")
    kind = INDICATOR_KINDS[indicator]
    if basis == "boundary_area" and kind != "bus_stops":
        raise LayerError("basis boundary_area is measured for bus stops only; use residential_area")
    params = {k: p.default for k, p in REGISTRY[indicator].params.items()}
    if kind == "parks":
        if green_kind not in ("park", "green"):
            raise LayerError(f"--green-kind must be park or green, not {green_kind!r}")
        r_def = params["park_radius_m"] if green_kind == "park" else params["green_radius_m"]
        a_def = params["park_min_area_m2"] if green_kind == "park" else params["green_min_area_m2"]
        radius_m = float(r_def) if radius_m is None else radius_m
        min_area_m2 = float(a_def) if min_area_m2 is None else min_area_m2
    elif kind == "facilities":
        cats = tx.categories()
        if category is None:
            raise LayerError("--indicator life_circle needs --category (e.g. kindergarten)")
        if category not in cats:
            raise LayerError(unknown_message("category", category, sorted(cats), "suggest"))
        if radius_m is None:
            radius_m = _category_radius(category)
    elif radius_m is None:
        radius_m = float(max(params["radii_m"]))
    if not 0 < float(radius_m) <= 5000:
        raise LayerError(f"--radius must be in (0, 5000] m, not {radius_m}")
    return SitingSpec(
        indicator,
        kind,
        float(radius_m),
        method,
        basis,
        float(target),
        category,
        green_kind,
        min_area_m2,
    )


def _category_radius(category: str) -> float:
    """The radius of the smallest life-circle level that requires ``category`` (GB 50180)."""
    lc = load_life_circles()
    levels = sorted(lc.levels.values(), key=lambda v: v.radius_m)
    for lv in levels:
        if category in lv.required or category in lv.optional:
            return float(lv.radius_m)
    raise LayerError(f"category {category!r} is in no life-circle level: pass --radius")
