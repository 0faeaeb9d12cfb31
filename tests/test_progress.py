"""geoplan._progress: step bars that leave the process single-threaded."""

from __future__ import annotations

import threading

from geoplan._progress import progress_steps


def test_a_shown_bar_starts_no_thread_and_counts_steps() -> None:
    before = threading.active_count()
    with progress_steps(["read", "build"], enabled=True, title="loading") as steps:
        assert steps._p is not None
        # no rich refresh thread: load_city may fork its second worker while the bar shows
        # (geoplan._fork.fork_ok wants a single-threaded process)
        assert threading.active_count() == before
        steps.advance()
        task = steps._p.tasks[0]
        assert task.description == "loading: build"
        assert task.completed == 1 and task.total == 2
        steps.advance()
        assert steps._p.tasks[0].completed == 2
        assert threading.active_count() == before
    assert threading.active_count() == before


def test_a_hidden_bar_draws_nothing() -> None:
    with progress_steps(["a"], enabled=False, title="t") as steps:
        assert steps._p is None
        steps.advance()
    assert steps.i == 1
