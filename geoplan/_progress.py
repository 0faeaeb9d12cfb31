"""Progress bars (rich) that stay silent when not on a terminal or when asked."""

from __future__ import annotations

import sys
from types import TracebackType

from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

__all__ = ["progress_steps"]


class _Steps:
    def __init__(self, steps: list[str], *, enabled: bool, title: str) -> None:
        self.steps = steps
        self.i = 0
        self._p: Progress | None = None
        self._task: TaskID | None = None
        self.enabled = enabled
        self.title = title

    def __enter__(self) -> _Steps:
        if self.enabled:
            self._p = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                transient=True,
                # redrawn at each step, not by rich's refresh thread: the process stays single
                # threaded, so load_city / check_city may fork a second worker
                # (geoplan._fork.fork_ok)
                auto_refresh=False,
            )
            self._p.__enter__()
            self._task = self._p.add_task(self._label(), total=len(self.steps))
            self._p.refresh()
        return self

    def _label(self) -> str:
        step = self.steps[self.i] if self.i < len(self.steps) else "done"
        return f"{self.title}: {step}"

    def advance(self) -> None:
        self.i += 1
        if self._p is not None and self._task is not None:
            self._p.update(self._task, advance=1, description=self._label())
            self._p.refresh()

    def __exit__(
        self,
        et: type[BaseException] | None,
        e: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._p is not None:
            self._p.__exit__(et, e, tb)


def progress_steps(steps: list[str], *, enabled: bool | None, title: str) -> _Steps:
    """A context manager showing ``title: step`` with a bar; ``enabled=None`` → only on a TTY.

    Parameters
    ----------
    steps
        Step names in order.
    enabled
        Show it; ``None``: only when stderr is a terminal.
    title
        Shown before the step name.

    Returns
    -------
    _Steps
        A context manager; call ``.advance()`` as each step ends.
    """
    on = sys.stderr.isatty() if enabled is None else enabled
    return _Steps(steps, enabled=on, title=title)
