"""The target sheet model: clauses, sources, targets, verdicts and sheets (immutable)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast, get_args

from geoplan.names import Status

Op = Literal[">=", "<=", "==", "between", "report"]


OPS: tuple[str, ...] = get_args(Op)


@dataclass(frozen=True, slots=True)
class Clause:
    """Where a target comes from in its document.

    Attributes
    ----------
    section
        Section number in the document's own numbering, e.g. ``"二、(一)"``.
    text
        The sentence(s) the target comes from, quoted verbatim (when ``verbatim``).
    verbatim
        False when ``text`` is a paraphrase (the national sheet, whose standards are not at hand).
    """

    section: str
    text: str
    verbatim: bool = True


@dataclass(frozen=True, slots=True)
class Source:
    """The document a sheet was transcribed from.

    Attributes
    ----------
    title
        Document title.
    doc_no
        文号 (issue number), if the document has one.
    issuer, date
        Issuing body and date, where known.
    seed_file
        File name of the document's text in ``shared/seeds/``, if any.
    note
        Anything else worth saying about the source.
    """

    title: str
    doc_no: str | None = None
    issuer: str | None = None
    date: str | None = None
    seed_file: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of checking one target against a measured value.

    Attributes
    ----------
    target_id
        The target checked.
    status
        ``"pass"``, ``"fail"``, ``"no data"`` (nothing measured), ``"not checkable"``, or
        ``"measured"`` (a figure shown for a target whose document sets none, ``op: report``).
    measured
        The measured value, in the target's unit, or None.
    gap
        ``measured - target``: for ``>=`` a negative gap is the shortfall; for ``<=`` a positive
        gap is the excess; for ``between`` the distance past the nearer bound (0 inside);
        None when there is no data or the target is not checkable.
    """

    target_id: str
    status: Status
    measured: float | None
    gap: float | None

    @property
    def passed(self) -> bool:
        """True when the target is met.

        Returns
        -------
        bool
        """
        return self.status == Status.PASS


@dataclass(frozen=True, slots=True)
class Target:
    """One target of a plan.

    Attributes
    ----------
    id
        snake_case id, unique in its sheet.
    label_zh, label_en
        Labels for reports.
    clause
        Where the target comes from (see :class:`Clause`).
    checkable
        Whether an indicator can check it from map data.
    value
        Target value: a number, ``(lo, hi)`` for ``between``; for targets that are not checkable
        also free text (``"13.14万亩"``).
    indicator, params, op, unit
        The check: indicator name (one of :data:`geoplan.indicators.registry.TARGETS`), its
        parameters, the comparison (``report``: measured and shown, no figure to meet, for the
        城市体检's 导向 / 监测 indicators; ``value`` then says so in words) and the unit (shares
        are 0..1). ``op`` and ``unit`` may also
        describe a non-checkable target.
    reason
        Why a target is not checkable.
    year
        Deadline year, when it differs from the sheet's.
    scope
        Area the target applies to (中心城区, 建成区, 乡镇政府驻地 …) when the document says so.
    applies_to
        The kind of study area a checkable target is measured on: ``city`` (default) or
        ``town`` (镇区: scored only by a check of a town, ``--scope town``; "no data" on a city).
    area
        The named part of the study area the clause restricts the target to (老城区, 振中街道):
        measured inside the polygon of that name given with ``--areas`` (or ``--units``); "no
        data: needs the … boundary" without it, never on the whole study area.
    also
        The other figures of a "分别" clause, ``((scope, value), …)`` (县级城市 11 %), printed
        with the target.
    implied
        True when the document names the goal but not the figure, and ``value`` is the
        figure implied by the wording (e.g. 全覆盖 -> 1.0); ``note`` says why.
    note
        Free-text remark on the reading of the clause.
    """

    id: str
    label_zh: str
    label_en: str
    clause: Clause
    checkable: bool
    value: float | tuple[float, float] | str
    indicator: str | None = None
    params: Mapping[str, str | float | tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    op: Op | None = None
    unit: str | None = None
    reason: str | None = None
    year: int | None = None
    scope: str | None = None
    applies_to: str = "city"
    area: str | None = None
    also: tuple[tuple[str, float | str], ...] = ()
    implied: bool = False
    note: str | None = None

    def number(self, name: str, default: float) -> float:
        """A numeric parameter of the target (``min_area_m2`` …), or ``default`` when absent.

        Parameters
        ----------
        name
            The parameter.
        default
            Its value when the target does not give it.

        Returns
        -------
        float
        """
        v = self.params.get(name, default)
        if isinstance(v, tuple):
            raise TypeError(f"target {self.id}: param {name} is a list, not a number")
        return float(v)

    def names(self, name: str = "names") -> tuple[str, ...]:
        """A list parameter of the target (``names``: features named in the clause), or ().

        Parameters
        ----------
        name
            The parameter (``names``).

        Returns
        -------
        tuple of str
        """
        v = self.params.get(name, ())
        return v if isinstance(v, tuple) else (str(v),)

    def evaluate(self, measured: float | None, *, abs_tol: float = 1e-9) -> Verdict:
        """Compare a measured value with this target.

        Parameters
        ----------
        measured
            Value measured by the target's indicator, in the target's unit (shares 0..1).
            None or NaN means nothing could be measured.
        abs_tol
            Absolute tolerance of every comparison, so that floating-point noise
            (0.7999999999 against 0.8) does not fail a target.

        Returns
        -------
        Verdict
            ``"not checkable"`` for targets marked so, ``"no data"`` when ``measured`` is
            None/NaN, ``"measured"`` for ``op: report`` (the document sets no figure),
            otherwise ``"pass"`` or ``"fail"`` with the signed gap.

        Examples
        --------
        >>> t = Target("x", "x", "x", Clause("一", "x"), True, 0.8, "park_500m", op=">=")
        >>> v = t.evaluate(0.75)
        >>> str(v.status), round(v.gap, 2)
        ('fail', -0.05)
        """
        if not self.checkable or self.op is None:
            return Verdict(self.id, Status.NOT_CHECKABLE, measured, None)
        if self.op != "report" and isinstance(self.value, str):
            return Verdict(self.id, Status.NOT_CHECKABLE, measured, None)
        if measured is None or math.isnan(measured):
            return Verdict(self.id, Status.NO_DATA, None, None)
        if self.op == "report":  # the document sets no figure to meet: shown, not judged
            return Verdict(self.id, Status.MEASURED, float(measured), None)
        measured = float(measured)
        if self.op == "between":
            lo, hi = cast(tuple[float, float], self.value)
            gap = measured - lo if measured < lo else measured - hi if measured > hi else 0.0
            ok = lo - abs_tol <= measured <= hi + abs_tol
        else:
            goal = cast(float, self.value)
            gap = measured - goal
            if self.op == ">=":
                ok = gap >= -abs_tol
            elif self.op == "<=":
                ok = gap <= abs_tol
            else:
                ok = abs(gap) <= abs_tol
        return Verdict(self.id, Status.PASS if ok else Status.FAIL, measured, gap)


@dataclass(frozen=True, slots=True)
class TargetSheet:
    """The targets of one plan.

    Attributes
    ----------
    id, name_zh, name_en, year
        Sheet id, plan title and horizon year.
    source
        The document (see :class:`Source`).
    targets
        The targets, in document order.
    path
        The YAML file the sheet was read from.
    parameters
        Overrides of indicator parameters (registry id → name → value), e.g.
        ``{"park_coverage": {"park_min_area_m2": 10000}}``; checked against the registry.
    """

    id: str
    name_zh: str
    name_en: str
    year: int
    source: Source
    targets: tuple[Target, ...]
    path: Path
    parameters: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def params_for(self, indicator: str) -> dict[str, Any]:
        """The registry parameters of ``indicator`` with this sheet's overrides applied.

        Parameters
        ----------
        indicator
            A registry id.

        Returns
        -------
        dict of str to Any
        """
        from geoplan.indicators.registry import resolve_params

        return resolve_params(indicator, self.parameters.get(indicator), where=str(self.path))

    @property
    def checkable(self) -> tuple[Target, ...]:
        """The targets an indicator can check.

        Returns
        -------
        tuple of Target
        """
        return tuple(t for t in self.targets if t.checkable)

    def get(self, target_id: str) -> Target:
        """Return the target with this id.

        Raises
        ------
        KeyError
            If the sheet has no such target; the message lists the ids it has.

        Parameters
        ----------
        target_id
            The target's id.

        Returns
        -------
        Target
        """
        for target in self.targets:
            if target.id == target_id:
                return target
        ids = ", ".join(t.id for t in self.targets)
        raise KeyError(f"sheet {self.id!r} has no target {target_id!r}; it has: {ids}")
