"""geoplan._fork: work shared with a forked child gives the results of running it here.

The forking tests run in a fresh interpreter: a test process that has run a Dask cluster keeps
Dask's offload thread, and forking from a threaded process is refused (run here instead).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

from geoplan import _fork


def _fresh(code: str) -> None:
    """Run ``code`` in a new single-threaded interpreter; fail on its error."""
    if not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2:
        pytest.skip("forking needs Linux and two cores")
    head = "import os\nfrom geoplan import _fork\nassert _fork.fork_ok()\n"
    res = subprocess.run(
        [sys.executable, "-c", head + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr[-2000:]


def _square(x: int) -> tuple[int, int]:
    return x * x, os.getpid()


def test_split_map_runs_part_in_a_child_and_keeps_order() -> None:
    _fresh(
        """
        def sq(x):
            return x * x, os.getpid()
        got = _fork.split_map(sq, list(range(9)), costs=[1.0] * 9)
        assert [v for v, _ in got] == [x * x for x in range(9)]
        pids = {p for _, p in got}
        assert os.getpid() in pids and len(pids) == 2, pids  # both sides did work
        assert _fork._STATE is None
        """
    )


def test_split_map_shares_by_cost() -> None:
    _fresh(
        """
        got = _fork.split_map(lambda x: os.getpid(), [1, 2, 3], costs=[10.0, 1.0, 1.0])
        here = [p == os.getpid() for p in got]
        # the costly item alone on one side, the two cheap ones on the other
        assert here[1] == here[2] != here[0], here
        """
    )


def test_split_map_passes_child_errors_on() -> None:
    _fresh(
        """
        def fail(x):
            if x == 0:
                raise ValueError("bad item")
            return x
        try:
            _fork.split_map(fail, [0, 1], costs=[1.0, 5.0])  # item 0 goes to the child
        except ValueError as exc:
            assert "bad item" in str(exc)
        else:
            raise AssertionError("no error")
        assert _fork._STATE is None
        """
    )


def test_split_map_runs_here_when_forking_is_unsafe() -> None:
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        assert not _fork.fork_ok()
        got = _fork.split_map(_square, [1, 2, 3])
    finally:
        stop.set()
        t.join()
    assert [v for v, _ in got] == [1, 4, 9]
    assert {p for _, p in got} == {os.getpid()}


def test_split_map_returns_arrays_intact() -> None:
    arrs = [np.arange(n, dtype=np.float64) / 7.0 for n in (5, 1000, 3)]
    got = _fork.split_map(lambda a: a * 3.0, arrs)
    for a, b in zip(arrs, got, strict=True):
        assert np.array_equal(a * 3.0, b)


def test_searches_shared_with_a_child_equal_searches_here() -> None:
    """AccessCache.prefetch_searches through the fork: node distances bit for bit."""
    from conftest import CHENGDU_BBOX, CHENGDU_PBF, require

    pbf = require(CHENGDU_PBF)
    _fresh(
        f"""
        import numpy as np
        import geoplan
        from geoplan.city.homes import homes_from_city
        from geoplan.network.access import attach_points, node_distance_m
        from geoplan.network.cache import AccessCache
        city = geoplan.load_city({str(pbf)!r}, boundary={CHENGDU_BBOX!r}, progress=False)
        net = city.network
        h = attach_points(net, homes_from_city(city).geometry.values)
        fac = city.facilities
        cache = AccessCache()
        jobs = []
        for cat in sorted(set(fac["category"]))[:4]:
            g = np.asarray(fac.loc[fac["category"] == cat].geometry.values, dtype=object)
            key, src = cache.needs_search(net, h, g, limit_m=800.0)
            jobs.append((key, src, 800.0))
        assert _fork.fork_ok()
        assert cache.prefetch_searches(net, jobs) == 4
        for key, src, lim in jobs:
            np.testing.assert_array_equal(
                cache.node_store[key][1], node_distance_m(net, src, limit_m=lim)
            )
        """
    )


def test_the_child_begins_while_this_process_holds_the_gil() -> None:
    # the pool's feeder thread needs the GIL to send the child its task; a caller that holds it
    # (a pyosmium pass, a scipy search; here a busy loop with a 10 s switch interval, so the
    # GIL is let go only when waiting) left the child idle until it let go
    _fresh(
        """
        import sys
        import time

        sys.setswitchinterval(10.0)
        pool, fut = _fork.start_child(time.time)
        with pool:
            end = time.time() + 0.5
            while time.time() < end:  # holds the GIL
                pass
            held_until = time.time()
            sys.setswitchinterval(0.005)
            begun = fut.result()
        assert begun < held_until - 0.4, (begun, held_until)
        assert not _fork._STARTED
        """
    )
