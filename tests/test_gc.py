"""The cyclic collector paused through long steps and switched back on after (geoplan._gc)."""

from __future__ import annotations

import gc

import pytest

import geoplan
from geoplan._gc import collector_paused, with_collector_paused


def test_paused_inside_restored_after_even_on_error() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # nested: the outer block switches it back on
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()

    @with_collector_paused
    def fails() -> None:
        assert not gc.isenabled()
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        fails()
    assert gc.isenabled()
    gc.disable()  # a caller who switched it off keeps it off
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_load_and_check_run_paused_and_switch_it_back_on(
    chengdu_clip: geoplan.City, monkeypatch: pytest.MonkeyPatch
) -> None:
    import geoplan.scoring.check as check

    seen: list[bool] = []
    real = check.resolve_built_up

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(check, "resolve_built_up", spy)
    geoplan.check_city(chengdu_clip)
    assert seen == [False]  # paused inside the check
    assert gc.isenabled()  # and on again after it
