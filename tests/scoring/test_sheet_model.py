"""Targets and verdicts (``geoplan.scoring.sheet_model``): each operator by hand."""

from __future__ import annotations

import math

import pytest

from geoplan.names import Status
from geoplan.scoring.sheet_model import Clause, Target


def _t(op: str | None, value: object, checkable: bool = True) -> Target:
    return Target("t", "目标", "target", Clause("一", "文"), checkable, value, "x", op=op)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("op", "value", "measured", "status", "gap"),
    [
        (">=", 0.9, 0.95, Status.PASS, 0.05),
        (">=", 0.9, 0.85, Status.FAIL, -0.05),
        (">=", 0.8, 0.7999999999999, Status.PASS, -1e-13),  # float noise is not a shortfall
        ("<=", 0.3, 0.25, Status.PASS, -0.05),
        ("<=", 0.3, 0.35, Status.FAIL, 0.05),
        ("==", 7.0, 7.0, Status.PASS, 0.0),
        ("==", 7.0, 6.0, Status.FAIL, -1.0),
        ("between", (8.0, 12.0), 10.0, Status.PASS, 0.0),
        ("between", (8.0, 12.0), 7.0, Status.FAIL, -1.0),  # below: distance to the low bound
        ("between", (8.0, 12.0), 13.5, Status.FAIL, 1.5),  # above: past the high bound
    ],
)
def test_verdict_and_gap_of_each_operator(
    op: str, value: object, measured: float, status: Status, gap: float
) -> None:
    v = _t(op, value).evaluate(measured)
    assert v.status == status and v.passed == (status == Status.PASS)
    assert v.gap == pytest.approx(gap, abs=1e-12) and v.measured == measured


def test_no_data_and_not_checkable() -> None:
    for missing in (None, math.nan):
        v = _t(">=", 0.9).evaluate(missing)
        assert v.status == Status.NO_DATA and v.gap is None and v.measured is None
    assert _t(">=", 0.9, checkable=False).evaluate(0.95).status == Status.NOT_CHECKABLE
    assert _t(None, 0.9).evaluate(0.95).status == Status.NOT_CHECKABLE
    report = _t("report", "导向指标 (no figure)")
    assert report.evaluate(0.2).status == Status.MEASURED and report.evaluate(0.2).gap is None
    assert report.evaluate(None).status == Status.NO_DATA
    prose = _t("<=", "导向指标 (no figure)").evaluate(0.2)
    assert prose.status == Status.NOT_CHECKABLE and prose.measured == 0.2
