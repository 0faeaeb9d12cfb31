"""Many places at once (``geoplan batch``): locally or on a Dask cluster.

- :mod:`~geoplan.batch.spec`: the batch file (places, shared extract, districts);
- :mod:`~geoplan.batch.place`: one place checked and written, with its content hash;
- :mod:`~geoplan.batch.engines`: serial, process pool, Dask distributed;
- :mod:`~geoplan.batch.summary`: the combined table and the overview map;
- :func:`run_batch`: all of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geoplan._errors import LayerError
from geoplan._outputs_set import check_output_dir, output_set
from geoplan.batch.spec import Batch, BatchError, Place, load_batch


@dataclass
class BatchResult:
    """Rows per place (file order), the combined table and the files written."""

    rows: list[dict[str, Any]]
    table: Any
    files: dict[str, Path] = field(default_factory=dict)
    engine: str = "serial"

    @property
    def failed(self) -> list[dict[str, Any]]:
        """The places that failed, each with its one-line ``error``.

        Returns
        -------
        list of dict
            Their summary rows.
        """
        return [r for r in self.rows if r["status"] == "failed"]


def run_batch(
    batch: Batch | str | Path,
    out: str | Path,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    dask_local: int | None = None,
    force: bool = False,
    on_done: Callable[[dict[str, Any]], None] | None = None,
    on_start: Callable[[str], None] | None = None,
) -> BatchResult:
    """Check every place; write ``out/<name>/…``, ``out/summary.csv|.xlsx``, ``out/overview.html``.

    Parameters
    ----------
    batch
        A loaded :class:`Batch` or the path of a batch file.
    out
        Output folder.
    workers
        Local processes (1 = serial in this process).
    scheduler
        Address of a Dask scheduler (``tcp://HOST:8786``): run there instead.
    dask_local
        Start a Dask ``LocalCluster`` of this many single-threaded worker processes for the run.
    force
        Re-run places whose inputs and settings did not change (default: skipped).
    on_done, on_start
        Callbacks: after each place (its row), and with the Dask dashboard link.

    Returns
    -------
    BatchResult
        Every place's summary row and the files written.
    """
    from geoplan.batch import engines
    from geoplan.batch.summary import overview_map, summary_table, write_summary

    b = batch if isinstance(batch, Batch) else load_batch(batch)
    out = Path(out)
    check_output_dir(out)
    if workers < 1:
        raise LayerError(f"--workers must be at least 1, not {workers}")
    if scheduler is not None and dask_local is not None:
        raise LayerError("give --scheduler ADDRESS or --dask-local N, not both")
    out.mkdir(parents=True, exist_ok=True)
    if scheduler is not None or dask_local is not None:
        rows = engines.run_dask(
            b,
            str(out),
            scheduler=scheduler,
            local_workers=dask_local,
            force=force,
            on_done=on_done,
            on_start=on_start,
        )
        engine = f"dask {scheduler or f'LocalCluster({dask_local})'}"
    elif workers > 1:
        rows = engines.run_pool(b, str(out), workers=workers, force=force, on_done=on_done)
        engine = f"process pool ({workers})"
    else:
        rows = engines.run_serial(b, str(out), force=force, on_done=on_done)
        engine = "serial"
    table = summary_table(rows)
    with output_set(f"batch-{b.name}", inputs=[b.path]) as outs:
        d = outs.dir(out)
        staged = write_summary(table, d)
        staged["overview"] = overview_map(
            rows, d / "overview.html", title=f"{b.name} · 达标率 pass rate"
        )
    files = {k: outs.final(v) for k, v in staged.items()}
    return BatchResult(rows, table, files, engine)


__all__ = ["Batch", "BatchError", "BatchResult", "Place", "load_batch", "run_batch"]
