"""Run the places of a batch: serially, on a local process pool, or on a Dask cluster.

geoplan does not schedule work itself: a local :class:`concurrent.futures.ProcessPoolExecutor`
(``forkserver`` start: each worker imports geoplan once) or Dask ``distributed`` (an existing
scheduler, or a :class:`~distributed.LocalCluster` started and closed here). Every engine calls
the same :func:`~geoplan.batch.place.run_place`, and rows come back in the batch file's order, so
results do not depend on the engine or the number of workers.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from geoplan._errors import GeoplanError
from geoplan.batch.place import run_place
from geoplan.batch.spec import Batch

Row = dict[str, Any]
OnDone = Callable[[Row], None]


class EngineError(GeoplanError, RuntimeError):
    """The engine could not start (no Dask installed, scheduler unreachable…)."""


def run_serial(
    batch: Batch, out: str, *, force: bool = False, on_done: OnDone | None = None
) -> list[Row]:
    """One place after another in this process (the shared OSM reads are freed at the end).

    Parameters
    ----------
    batch
        The batch.
    out
        Output folder.
    force
        Run places whose earlier results are current too.
    on_done
        Called with each place's row when it ends.

    Returns
    -------
    list of dict
        Summary rows in place order.
    """
    from geoplan.city import share_osm_reads

    rows = []
    try:
        for place in batch.places:
            row = run_place(place, out, force)
            rows.append(row)
            if on_done:
                on_done(row)
    finally:
        share_osm_reads(0)
    return rows


def run_pool(
    batch: Batch, out: str, *, workers: int, force: bool = False, on_done: OnDone | None = None
) -> list[Row]:
    """Places on ``workers`` local processes.

    Parameters
    ----------
    batch
        The batch.
    out
        Output folder.
    workers
        Local processes.
    force
        Run places whose earlier results are current too.
    on_done
        Called with each place's row when it ends.

    Returns
    -------
    list of dict
        Summary rows in place order.
    """
    ctx = multiprocessing.get_context("forkserver")
    rows: dict[int, Row] = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futs = {pool.submit(run_place, p, out, force): i for i, p in enumerate(batch.places)}
        for f in as_completed(futs):
            rows[futs[f]] = f.result()
            if on_done:
                on_done(rows[futs[f]])
    return [rows[i] for i in range(len(batch.places))]


def run_dask(
    batch: Batch,
    out: str,
    *,
    scheduler: str | None = None,
    local_workers: int | None = None,
    force: bool = False,
    on_done: OnDone | None = None,
    on_start: Callable[[str], None] | None = None,
) -> list[Row]:
    """Places as Dask tasks: on the cluster at ``scheduler`` or a new local one.

    Every worker needs geoplan installed and the input and output paths reachable under the same
    names. ``on_start`` receives the dashboard link.

    Parameters
    ----------
    batch
        The batch.
    out
        Output folder (reachable by every worker).
    scheduler
        Address of a running Dask scheduler.
    local_workers
        Start a local cluster of this many workers instead.
    force
        Run places whose earlier results are current too.
    on_done
        Called with each place's row when it ends.
    on_start
        Called with the dashboard link.

    Returns
    -------
    list of dict
        Summary rows in place order.
    """
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_completed
    except ImportError as exc:  # pragma: no cover - dask is a dependency of geoplan[dask]
        raise EngineError("Dask is not installed: pip install 'geoplan[dask]'") from exc
    cluster = None
    try:
        if scheduler is None:
            cluster = LocalCluster(
                n_workers=local_workers or 2,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                silence_logs=50,
            )
            client = Client(cluster)
        else:
            try:
                client = Client(scheduler, timeout="10s")
            except OSError as exc:
                raise EngineError(
                    f"cannot reach the Dask scheduler at {scheduler}; start one with "
                    "`dask scheduler` and workers with `dask worker " + scheduler + "`"
                ) from exc
        with client:
            if on_start:
                on_start(str(client.dashboard_link))
            futs = [
                client.submit(run_place, p, out, force, key=f"geoplan-{p.name}-{i}", pure=False)
                for i, p in enumerate(batch.places)
            ]
            index = {f.key: i for i, f in enumerate(futs)}
            rows: dict[int, Row] = {}
            for f in dask_completed(futs):
                rows[index[f.key]] = f.result()
                if on_done:
                    on_done(rows[index[f.key]])
        return [rows[i] for i in range(len(batch.places))]
    finally:
        if cluster is not None:
            cluster.close()
