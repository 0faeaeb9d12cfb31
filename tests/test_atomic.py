"""Atomic outputs: a failed write leaves no partial file and never damages an existing target."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Point, box

from geoplan import _atomic
from geoplan._atomic import atomic_path, write_gpkg_atomic


def layers() -> dict[str, gpd.GeoDataFrame]:
    points = gpd.GeoDataFrame(
        {"name": ["a", "b"]}, geometry=[Point(113.66, 34.75), Point(113.73, 34.77)], crs=4326
    )
    areas = gpd.GeoDataFrame(
        {"area_km2": [1.0]}, geometry=[box(113.6, 34.7, 113.7, 34.8)], crs=4326
    )
    return {"schools": points, "parks": areas}


def test_atomic_path_replaces_target_and_leaves_nothing_else(tmp_path: Path):
    target = tmp_path / "out" / "summary.csv"  # parent is created
    with atomic_path(target) as tmp:
        assert tmp.name == target.name and tmp.parent != target.parent
        tmp.write_text("a,b\n1,2\n")
        assert not target.exists()
    assert target.read_text() == "a,b\n1,2\n"
    assert list(target.parent.iterdir()) == [target]


def test_atomic_path_failure_keeps_existing_target(tmp_path: Path):
    target = tmp_path / "summary.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError, match="disk full"), atomic_path(target) as tmp:
        tmp.write_text("half a fi")
        raise RuntimeError("disk full")
    assert target.read_text() == "old\n"
    assert list(tmp_path.iterdir()) == [target]


def test_atomic_path_without_output_is_an_error(tmp_path: Path):
    target = tmp_path / "summary.csv"
    target.write_text("old\n")
    with pytest.raises(FileNotFoundError, match="nothing was written"), atomic_path(target):
        pass
    assert target.read_text() == "old\n"
    assert list(tmp_path.iterdir()) == [target]


def test_write_gpkg_atomic_round_trip(tmp_path: Path):
    target = tmp_path / "result.gpkg"
    target.write_bytes(b"previous run")  # replaced as a whole
    assert write_gpkg_atomic(target, layers()) == target
    assert [str(n) for n, _ in pyogrio.list_layers(target)] == ["schools", "parks"]
    back = gpd.read_file(target, layer="schools")
    assert back.crs.to_epsg() == 4326
    assert list(back["name"]) == ["a", "b"]
    assert back.geometry.equals(layers()["schools"].geometry)
    assert list(tmp_path.iterdir()) == [target]


@pytest.mark.parametrize("existing", [True, False])
def test_write_gpkg_atomic_failure_mid_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, existing: bool
):
    target = tmp_path / "result.gpkg"
    if existing:
        write_gpkg_atomic(target, {"old": layers()["parks"]})
    before = target.read_bytes() if existing else None
    real_write = pyogrio.write_dataframe
    calls: list[str] = []

    def failing_write(df: gpd.GeoDataFrame, path: Path, **kwargs: Any) -> None:
        calls.append(kwargs["layer"])
        if len(calls) == 2:  # the first layer is already on disk in the temporary file
            raise OSError("No space left on device")
        real_write(df, path, **kwargs)

    monkeypatch.setattr(_atomic.pyogrio, "write_dataframe", failing_write)
    with pytest.raises(OSError, match="No space left"):
        write_gpkg_atomic(target, layers())
    assert calls == ["schools", "parks"]
    if existing:
        assert target.read_bytes() == before
        assert list(tmp_path.iterdir()) == [target]
    else:
        assert list(tmp_path.iterdir()) == []


def test_write_gpkg_atomic_validates_before_writing(tmp_path: Path):
    target = tmp_path / "result.gpkg"
    frame = layers()["parks"]
    with pytest.raises(ValueError, match="clash"):
        write_gpkg_atomic(target, {"Parks": frame, "parks": frame})
    with pytest.raises(ValueError, match="no CRS"):
        write_gpkg_atomic(target, {"parks": frame.set_crs(None, allow_override=True)})
    with pytest.raises(ValueError, match="no layers"):
        write_gpkg_atomic(target, {})
    assert list(tmp_path.iterdir()) == []


def test_sigterm_leaves_no_mixed_output_set(tmp_path: Path) -> None:
    """A `geoplan run` killed with SIGTERM at several moments: each time the output folder holds
    either the previous complete set or the new complete set, and no staging folder."""
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).parents[1]
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "geoplan.cli.app",
        "run",
        str(root / "scenarios" / "demo_zhengzhou_parks.yaml"),
        "--out",
        str(out),
        "-q",
    ]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    complete = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    old = {p: (out / p).read_bytes() for p in complete}
    for delay in (0.5, 1.5, 2.5, 4.0):
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=300)
        assert proc.returncode in (0, 130, -signal.SIGTERM), err
        now = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
        assert now == complete, (delay, now)
        assert not [p for p in out.rglob("*") if p.name.endswith(".staging")]
        manifest = Path(".geoplan-run-demo_zhengzhou_parks.json")
        changed = [p for p in complete if (out / p).read_bytes() != old[p]]
        # the manifest is written after the last file is swapped in: new files without a new
        # manifest would be a mixed set
        assert changed == [] or manifest in changed, (delay, changed)
        old = {p: (out / p).read_bytes() for p in complete}


def test_a_second_run_into_the_same_folder_waits_or_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs into one --out never interleave: a live holder of the folder's lock makes the
    second wait (then refuse, naming the pid); a dead holder's lock is taken over."""
    import subprocess

    from typer.testing import CliRunner

    from geoplan._outputs_set import LOCK
    from geoplan.cli import app

    out = tmp_path / "out"
    out.mkdir()
    argv = ["check", "--osm", "demo", "--out", str(out), "-q"]
    holder = subprocess.Popen(["sleep", "30"])
    try:
        (out / LOCK).write_text(str(holder.pid), encoding="ascii")
        monkeypatch.setenv("GEOPLAN_LOCK_WAIT_S", "0.5")
        res = CliRunner().invoke(app, argv)
        assert res.exit_code == 2
        assert f"another geoplan run (pid {holder.pid}) is writing here" in res.output
        assert sorted(p.name for p in out.iterdir()) == [LOCK]  # nothing written, lock kept
    finally:
        holder.kill()
        holder.wait()
    # the holder is gone: its lock is stale and taken over; released when the run ends
    res = CliRunner().invoke(app, argv)
    assert res.exit_code == 0, res.output
    assert not (out / LOCK).exists() and any(out.glob("*_scorecard.csv"))
    # a holder that finishes while we wait: the run waits and then writes
    import threading

    short = subprocess.Popen(["sleep", "1"])
    reaper = threading.Thread(target=short.wait)  # reaped when it ends (not left a zombie)
    reaper.start()
    (out / LOCK).write_text(str(short.pid), encoding="ascii")
    monkeypatch.setenv("GEOPLAN_LOCK_WAIT_S", "30")
    res = CliRunner().invoke(app, argv)
    reaper.join()
    assert res.exit_code == 0, res.output


_KILLED_MID_COMMIT = """
import os, sys
from pathlib import Path
from geoplan import _outputs_set as o
out = Path(sys.argv[1])
calls = {"n": 0}
real = os.replace
def replace(a, b):
    if str(a).endswith(".json.tmp"):  # the journal and manifest writes
        return real(a, b)
    calls["n"] += 1
    if calls["n"] > int(sys.argv[2]):
        os._exit(9)  # SIGKILL: no cleanup, no finally
    return real(a, b)
o.os.replace = replace
o.EXCHANGE = sys.argv[3] == "exchange"
with o.output_set("t") as outs:
    for name in ("a.csv", "b.csv", "c.csv", "d.csv"):
        (outs.dir(out) / name).write_text("new " + name)
"""


@pytest.mark.parametrize("renames", [1, 2, 3, 5, 6])  # 7 renames in all
def test_a_run_killed_during_the_renames_is_rolled_back(tmp_path: Path, renames: int) -> None:
    """Renames slowed to a stop: the process dies after ``renames`` of them (a kill between two
    renames). The folder is then mixed, and the next run into it (any output set) restores the
    previous complete set before writing its own."""
    import subprocess
    import sys

    from geoplan._outputs_set import output_set, recover

    out = tmp_path / "out"
    with output_set("t") as outs:
        for name in ("a.csv", "b.csv", "c.csv"):  # the previous set (d.csv is new)
            (outs.dir(out) / name).write_text("old " + name)
    old = {p.name: p.read_text() for p in out.glob("*.csv")}
    proc = subprocess.run(
        [sys.executable, "-c", _KILLED_MID_COMMIT, str(out), str(renames), "journal"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 9, proc.stderr
    assert list(out.glob(".geoplan-commit-*.json"))  # the journal survived the kill
    recover(out)
    now = {p.name: p.read_text() for p in out.glob("*.csv")}
    assert now == old  # exactly the previous set: no new file, every old one back
    assert not list(out.glob(".geoplan-commit-*.json"))
    assert not [p for p in out.iterdir() if p.name.endswith(".staging")]
    # a normal run afterwards writes its whole set and leaves no journal
    with output_set("t") as outs:
        for name in ("a.csv", "b.csv"):
            (outs.dir(out) / name).write_text("next " + name)
    assert (out / "a.csv").read_text() == "next a.csv" and (out / "c.csv").exists()
    assert not list(out.glob(".geoplan-commit-*.json"))


@pytest.mark.parametrize("exchange", [False, True])
def test_an_error_among_the_renames_rolls_the_set_back_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: bool
) -> None:
    """A rename that fails half way (a full disk, a file locked by Excel): the previous set
    is back before the error reaches the user, and nothing of the new one stays."""
    import os

    from geoplan import _outputs_set as o

    out = tmp_path / "out"
    with o.output_set("t") as outs:
        for name in ("a.csv", "b.csv"):
            (outs.dir(out) / name).write_text("old " + name)
    real, calls = os.replace, {"n": 0}

    def flaky(a: Any, b: Any) -> None:
        if not str(a).endswith(".tmp"):
            calls["n"] += 1
            if calls["n"] == (2 if exchange else 4):
                raise OSError(28, "No space left on device")
        real(a, b)

    monkeypatch.setattr(o.os, "replace", flaky)
    monkeypatch.setattr(o, "EXCHANGE", exchange)
    with pytest.raises(OSError, match="No space"), o.output_set("t") as outs:
        for name in ("a.csv", "b.csv", "c.csv"):
            (outs.dir(out) / name).write_text("new " + name)
    monkeypatch.setattr(o.os, "replace", real)
    assert {p.name: p.read_text() for p in out.glob("*.csv")} == {
        "a.csv": "old a.csv",
        "b.csv": "old b.csv",
    }
    assert not list(out.glob(".geoplan-commit-*")) and not list(out.glob("*.staging"))


@pytest.mark.parametrize("renames", [0, 1, 2, 3])  # 4 files: 4 renames, then the swap
def test_a_folder_swapped_in_one_step_is_never_mixed(tmp_path: Path, renames: int) -> None:
    """Where the system can swap two folders in one call (Linux renameat2), the set is built
    as the folder's next version and swapped in: killed after any of its renames, the folder
    holds exactly the previous set at once (no recovery needed); other files of the folder
    survive a complete commit; the left-over version is swept by the next run."""
    import subprocess
    import sys

    from geoplan import _exchange
    from geoplan._outputs_set import output_set

    out = tmp_path / "out"
    with output_set("t") as outs:
        for name in ("a.csv", "b.csv", "c.csv"):
            (outs.dir(out) / name).write_text("old " + name)
    if not _exchange.can_exchange(out):
        pytest.skip("this filesystem cannot swap two folders in one call (journal used)")
    (out / "notes.txt").write_text("a planner's own file")
    old = {p.name: p.read_text() for p in out.iterdir() if not p.name.startswith(".")}
    proc = subprocess.run(
        [sys.executable, "-c", _KILLED_MID_COMMIT, str(out), str(renames), "exchange"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 9, proc.stderr
    now = {p.name: p.read_text() for p in out.iterdir() if not p.name.startswith(".")}
    assert now == old  # untouched: the kill came before the one swap
    with output_set("t") as outs:  # the next run sweeps the half-built version away
        (outs.dir(out) / "a.csv").write_text("next a.csv")
    assert not list(tmp_path.glob(".geoplan-next-*"))
    got = {p.name: p.read_text() for p in out.iterdir() if not p.name.startswith(".")}
    assert got == old | {"a.csv": "next a.csv"}  # the planner's file and the rest kept
    assert (out / ".geoplan-t.json").exists() and not (out / ".geoplan.lock").exists()


_KILLED_BETWEEN_SWAPS = """
import os, sys
from pathlib import Path
from geoplan import _outputs_set as o
tables, maps = Path(sys.argv[1]), Path(sys.argv[2])
real = o._exchange.exchange
calls = {"n": 0}
def exchange(a, b):
    real(a, b)
    if not Path(a).name.startswith(".geoplan-next-"):
        return  # the filesystem probe
    calls["n"] += 1
    if calls["n"] >= int(sys.argv[3]):
        os._exit(9)  # SIGKILL after this swap: no cleanup, no finally
o._exchange.exchange = exchange
with o.output_set("t") as outs:
    (outs.dir(tables) / "scorecard.csv").write_text("new scorecard")
    (outs.dir(maps) / sys.argv[4]).write_text("new map")
"""


@pytest.mark.parametrize("swaps", [1, 2])
def test_a_set_of_two_folders_killed_between_its_swaps_is_rolled_back_whole(
    tmp_path: Path, swaps: int
) -> None:
    """A check writing its tables and its map into two folders, killed after one swap (the
    tables new, the map old) or after both (before the commit point): the next run into either
    folder puts both back to the previous set; a set that got through is complete in both."""
    import subprocess
    import sys

    from geoplan import _exchange
    from geoplan._outputs_set import output_set

    tables, maps = tmp_path / "out", tmp_path / "maps"
    with output_set("t") as outs:
        (outs.dir(tables) / "scorecard.csv").write_text("old scorecard")
        (outs.dir(maps) / "city.html").write_text("old map")
    if not (_exchange.can_exchange(tables) and _exchange.can_exchange(maps)):
        pytest.skip("this filesystem cannot swap two folders in one call (journal used)")
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _KILLED_BETWEEN_SWAPS,
            str(tables),
            str(maps),
            str(swaps),
            "city.html",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 9, proc.stderr
    assert (tables / "scorecard.csv").read_text() == "new scorecard"  # swapped before the kill
    assert list(tmp_path.glob(".geoplan-set-*.json"))  # the set journals survived
    # the next run into the map folder alone restores both folders
    with output_set("u") as outs:
        (outs.dir(maps) / "other.txt").write_text("x")
    assert (tables / "scorecard.csv").read_text() == "old scorecard"
    assert (maps / "city.html").read_text() == "old map"
    assert not list(tmp_path.glob(".geoplan-set-*")) and not list(tmp_path.glob(".geoplan-next-*"))
    # a complete two-folder set: both new, nothing left beside them
    with output_set("t") as outs:
        (outs.dir(tables) / "scorecard.csv").write_text("next scorecard")
        (outs.dir(maps) / "city.html").write_text("next map")
    assert (tables / "scorecard.csv").read_text() == "next scorecard"
    assert (maps / "city.html").read_text() == "next map"
    left = [p.name for p in tmp_path.iterdir() if p.name.startswith(".geoplan")]
    assert left == []


@pytest.mark.parametrize("mode", [0o755, 0o750])
def test_a_swapped_folder_keeps_its_permissions(tmp_path: Path, mode: int) -> None:
    """A folder swapped for its next version is readable by whom it was before (the version
    is built in a private temporary folder): its mode and its subfolders' modes are kept."""
    import os
    import stat

    from geoplan import _exchange
    from geoplan._outputs_set import output_set

    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    os.chmod(out, mode)
    os.chmod(out / "sub", 0o711)
    if not _exchange.can_exchange(out):
        pytest.skip("this filesystem cannot swap two folders in one call (journal used)")
    with output_set("t") as outs:
        (outs.dir(out) / "a.csv").write_text("new a")
    assert stat.S_IMODE(os.stat(out).st_mode) == mode
    assert stat.S_IMODE(os.stat(out / "sub").st_mode) == 0o711
    assert (out / "a.csv").read_text() == "new a"


@pytest.mark.parametrize("swaps", [0, 1, 2])
def test_a_set_whose_folder_holds_another_is_whole(tmp_path: Path, swaps: int) -> None:
    """``check --out maps/demo --map maps/demo.html``: one folder of the set inside the other.
    Committed, both new files are there (the outer folder's version is built after the inner
    swap); killed after one swap or both, the next run puts both back."""
    import subprocess
    import sys

    from geoplan import _exchange
    from geoplan._outputs_set import output_set

    maps = tmp_path / "maps"
    with output_set("t") as outs:
        (outs.dir(maps / "demo") / "scorecard.csv").write_text("old scorecard")
        (outs.dir(maps) / "demo.html").write_text("old map")
    if not _exchange.can_exchange(maps):
        pytest.skip("this filesystem cannot swap two folders in one call (journal used)")
    if swaps == 0:  # a complete run
        with output_set("t") as outs:
            (outs.dir(maps / "demo") / "scorecard.csv").write_text("new scorecard")
            (outs.dir(maps) / "demo.html").write_text("new map")
        assert (maps / "demo" / "scorecard.csv").read_text() == "new scorecard"
        assert (maps / "demo.html").read_text() == "new map"
        return
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _KILLED_BETWEEN_SWAPS,
            str(maps / "demo"),
            str(maps),
            str(swaps),
            "demo.html",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 9, proc.stderr
    with output_set("u") as outs:
        (outs.dir(maps) / "other.txt").write_text("x")
    assert (maps / "demo" / "scorecard.csv").read_text() == "old scorecard"
    assert (maps / "demo.html").read_text() == "old map"
    assert not [p for p in tmp_path.rglob(".geoplan-next-*")]
    assert not [p for p in tmp_path.rglob(".geoplan-set-*")]
