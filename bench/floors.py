"""Each stage against its measured floor, in one run (issue 28).

``python bench/floors.py FILE [--rounds 2]`` runs, each in a fresh child process, interleaved
round by round, and prints (and writes into ``docs/benchmarks.md`` between the ``floors:begin``
/ ``floors:end`` markers) the minimum and median wall time and peak memory of:

- ``osmium cat -f opl`` (osmium-tool, C++): decode the file and print every object;
- **DuckDB read + numpy join**: ``ST_ReadOSM`` (DuckDB's spatial extension, from the
  ``duckdb-ext-spatial`` wheel, never downloaded) of every node, way and relation into Arrow,
  then every way's node refs joined to node locations with ``searchsorted`` on the sorted ids —
  the floor of the read;
- geoplan's ``read_osm`` and ``load_city`` (with its steps);
- geoplan's ``check_city`` with ``exact_areas=True`` and ``False`` (with its steps), and in the
  same process the floors of two of its stages: the raw scipy bounded multi-source Dijkstras of
  every source set the check searched (``dijkstra(csr, indices=…, min_only=True, limit=…)`` from
  the nodes at the sources' edge ends), and the land-cell coverage alone (``land_cells`` +
  ``covered_cells`` for every category and radius of the life circles, parks and bus stops).

Ratios: read ÷ (DuckDB read + join), ``load_city`` ÷ the same, access step ÷ raw scipy
searches, coverage steps (life circles + parks + bus stops) ÷ the land-cell floor.

With ``--sparse FILE`` (``make bench`` passes the Chengdu 17×17 tile, its whole extent as the
study area) the sparse city's ``load_city`` + ``check_city`` run in the same rounds, and with
``--rerun-n N`` (``make bench``: 8) the one-park scenario re-run of ``bench/scenario_edit.py``.
A second table then lists every target of issue 28 with each round's figure and whether it is met.
Timings on a shared VM vary by 10–30 % between runs; the ratios are taken within one round.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- floors:begin -->", "<!-- floors:end -->"


def peak_mb() -> float:
    """Peak resident memory of this process (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# ------------------------------------------------------------------------------- child stages


def stage_duckdb(path: str) -> dict[str, Any]:
    import duckdb

    ext = _duckdb_extension_dir()
    t0 = time.perf_counter()
    con = duckdb.connect(
        config={
            "extension_directory": ext,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
    )
    con.execute("LOAD spatial")
    tbl = con.execute(
        "SELECT kind, id, refs, lat, lon FROM ST_ReadOSM(?)", [path]
    ).fetch_arrow_table()
    t_read = time.perf_counter() - t0
    import pyarrow.compute as pc

    kind = tbl["kind"].combine_chunks().indices.to_numpy(zero_copy_only=False)
    node = kind == 0
    way = kind == 1
    ids = tbl["id"].to_numpy()
    lat = tbl["lat"].to_numpy(zero_copy_only=False)
    lon = tbl["lon"].to_numpy(zero_copy_only=False)
    nid, nlat, nlon = ids[node], lat[node], lon[node]
    order = np.argsort(nid, kind="stable")
    nid, nlat, nlon = nid[order], nlat[order], nlon[order]
    refs = pc.list_flatten(tbl.filter(pc.equal(tbl["kind"], "way"))["refs"]).to_numpy()
    pos = np.searchsorted(nid, refs)
    pos = np.minimum(pos, nid.shape[0] - 1)
    found = nid[pos] == refs
    x = np.where(found, nlon[pos], np.nan)
    y = np.where(found, nlat[pos], np.nan)
    return {
        "s": time.perf_counter() - t0,
        "read_s": t_read,
        "nodes": int(node.sum()),
        "ways": int(way.sum()),
        "way_refs": int(refs.shape[0]),
        "refs_found": int(found.sum()),
        "checksum": float(np.nansum(x) + np.nansum(y)),
        "peak_mb": peak_mb(),
    }


def _duckdb_extension_dir() -> str:
    import duckdb_ext  # the duckdb-ext-spatial wheel's namespace package

    return str(Path(next(iter(duckdb_ext.__path__))) / "extensions")


def stage_read(path: str) -> dict[str, Any]:
    from geoplan.io.osm import read_osm

    t0 = time.perf_counter()
    raw = read_osm(path)
    return {
        "s": time.perf_counter() - t0,
        "ways": len(raw.ways),
        "points": len(raw.points),
        "areas": len(raw.areas),
        "peak_mb": peak_mb(),
    }


def stage_load(path: str) -> dict[str, Any]:
    from geoplan.city import load_city

    t0 = time.perf_counter()
    city = load_city(path, progress=False)
    return {
        "s": time.perf_counter() - t0,
        "steps": dict(city.report.seconds),
        "walk_nodes": city.network.n_nodes,
        "peak_mb": peak_mb(),
    }


def stage_check(path: str, exact: bool) -> dict[str, Any]:
    from geoplan.city import load_city
    from geoplan.scoring.check import check_city

    city = load_city(path, progress=False)
    load_mb = peak_mb()
    t0 = time.perf_counter()
    res = check_city(city, sheet="national", exact_areas=exact)
    wall = time.perf_counter() - t0
    out: dict[str, Any] = {"s": wall, "steps": dict(res.seconds), "peak_mb": peak_mb()}
    out["load_peak_mb"] = load_mb
    out["search_floor_s"] = _search_floor(city)
    out["cells_floor_s"] = _cells_floor(city)
    return out


def _search_floor(city: Any) -> float:
    """Raw scipy bounded multi-source Dijkstras of the check's source sets (from edge ends)."""
    from scipy.sparse.csgraph import dijkstra

    from geoplan.indicators.coverage import category_geometries
    from geoplan.network.access import facility_sources

    net = city.network
    csr = net.csr
    geoms = category_geometries(city.facilities, bus_stops=city.bus_stops, parks=city.parks)
    starts = {}
    for cat, g in geoms.items():
        src = facility_sources(net, g)  # attachment is not part of the search floor
        starts[cat] = np.unique(np.concatenate([net.edge_u[src.edge], net.edge_v[src.edge]]))
    t0 = time.perf_counter()
    for nodes in starts.values():
        if nodes.size:
            dijkstra(csr, directed=False, indices=nodes, min_only=True, limit=1000.0)
    return time.perf_counter() - t0


def _cells_floor(city: Any) -> float:
    """Land-cell coverage alone: every category at the life circles' radii, parks, bus stops."""
    from geoplan.indicators.cells import covered_cells, land_cells
    from geoplan.indicators.coverage import category_geometries, residential_land

    land = residential_land(city.residential)
    geoms = category_geometries(city.facilities, bus_stops=city.bus_stops, parks=city.parks)
    t0 = time.perf_counter()
    cells = land_cells(land)
    for g in geoms.values():
        for r in (300.0, 500.0, 1000.0):
            covered_cells(cells, g, r).mean()
    return time.perf_counter() - t0


def stage_sparse(path: str) -> dict[str, Any]:
    """``load_city`` + ``check_city`` of the sparse city (its whole extent)."""
    from geoplan.city import load_city
    from geoplan.scoring.check import check_city

    t0 = time.perf_counter()
    city = load_city(path, progress=False)
    load_s = time.perf_counter() - t0
    res = check_city(city, sheet="national")
    return {
        "s": time.perf_counter() - t0,
        "load_s": load_s,
        "steps": dict(res.seconds),
        "walk_nodes": city.network.n_nodes,
        "peak_mb": peak_mb(),
    }


def stage_rerun(n: str) -> dict[str, Any]:
    """The one-park scenario re-run of ``bench/scenario_edit.py`` on the N×N Chengdu tile."""
    sys.path.insert(0, str(ROOT / "bench"))
    import scenario_edit

    got = scenario_edit.measure(int(n))
    return {
        "s": got["edited_rerun_s"],
        "first_run_s": got["first_run_s"],
        "graph_nodes": got["graph_nodes"],
        "steps": got["plan_check_steps"],
        "peak_mb": peak_mb(),
    }


def stage_osmium(path: str) -> dict[str, Any]:
    exe = shutil.which("osmium")
    if exe is None:
        return {"s": None}
    t0 = time.perf_counter()
    subprocess.run(
        [exe, "cat", "-f", "opl", "-o", "/dev/null", "--overwrite", path],
        check=True,
        capture_output=True,
    )
    return {"s": time.perf_counter() - t0}


# ------------------------------------------------------------------------------- driver

STAGES = ("osmium", "duckdb", "read", "load", "check_exact", "check_cells", "sparse", "rerun")


def _child(stage: str, path: str) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.run(
        [sys.executable, __file__, "--child", stage, path],
        capture_output=True,
        text=True,
        env=env,
        timeout=3600,
    )
    if p.returncode != 0:
        return {"s": None, "error": (p.stderr.strip().splitlines() or ["?"])[-1]}
    out: dict[str, Any] = json.loads(p.stdout.strip().splitlines()[-1])
    return out


def _run_child(stage: str, path: str) -> dict[str, Any]:
    if stage == "osmium":
        return stage_osmium(path)
    if stage == "duckdb":
        return stage_duckdb(path)
    if stage == "read":
        return stage_read(path)
    if stage == "load":
        return stage_load(path)
    if stage == "sparse":
        return stage_sparse(path)
    if stage == "rerun":
        return stage_rerun(path)
    return stage_check(path, exact=stage == "check_exact")


def _med(vals: list[float]) -> float:
    return float(statistics.median(vals))


def _fmt(v: float | None) -> str:
    return "–" if v is None else f"{v:.2f}"


def table(path: str, runs: list[dict[str, dict[str, Any]]]) -> str:
    """The floors table: min / median of each stage, and each ratio per round."""

    def col(stage: str, key: str = "s") -> list[float]:
        return [r[stage][key] for r in runs if r[stage].get(key) is not None]

    def step(stage: str, name: str) -> list[float]:
        return [r[stage]["steps"].get(name, 0.0) for r in runs if "steps" in r[stage]]

    lines = [
        f"File: `{Path(path).name}` ({Path(path).stat().st_size / 1e6:.0f} MB), "
        f"{len(runs)} rounds, each stage in its own process, interleaved; "
        f"{platform.machine()}, {os.cpu_count()} cores.",
        "",
        "| stage | min s | median s | peak MB |",
        "|---|---:|---:|---:|",
    ]
    rows = [
        ("osmium cat -f opl", col("osmium"), []),
        ("DuckDB ST_ReadOSM + numpy join (read floor)", col("duckdb"), col("duckdb", "peak_mb")),
        ("geoplan read_osm", col("read"), col("read", "peak_mb")),
        ("geoplan load_city", col("load"), col("load", "peak_mb")),
        ("check, exact areas", col("check_exact"), col("check_exact", "peak_mb")),
        ("check, land cells", col("check_cells"), col("check_cells", "peak_mb")),
        ("· access step (cells run)", step("check_cells", "access"), []),
        ("· raw scipy searches (access floor)", col("check_cells", "search_floor_s"), []),
        (
            "· life circles + parks + bus, exact",
            [
                a + b + c
                for a, b, c in zip(
                    step("check_exact", "life_circles"),
                    step("check_exact", "parks"),
                    step("check_exact", "bus_stops"),
                    strict=True,
                )
            ],
            [],
        ),
        (
            "· life circles + parks + bus, cells",
            [
                a + b + c
                for a, b, c in zip(
                    step("check_cells", "life_circles"),
                    step("check_cells", "parks"),
                    step("check_cells", "bus_stops"),
                    strict=True,
                )
            ],
            [],
        ),
        ("· land-cell coverage alone (coverage floor)", col("check_cells", "cells_floor_s"), []),
    ]
    for name, vals, mem in rows:
        mn = min(vals) if vals else None
        md = _med(vals) if vals else None
        lines.append(
            f"| {name} | {_fmt(mn)} | {_fmt(md)} | {max(mem):,.0f} |"
            if mem
            else f"| {name} | {_fmt(mn)} | {_fmt(md)} | |"
        )

    def ratios(num: list[float], den: list[float]) -> str:
        rs = [a / b for a, b in zip(num, den, strict=False) if b]
        return " / ".join(f"{r:.2f}×" for r in rs) if rs else "–"

    cov_cells = [
        a + b + c
        for a, b, c in zip(
            step("check_cells", "life_circles"),
            step("check_cells", "parks"),
            step("check_cells", "bus_stops"),
            strict=True,
        )
    ]
    lines += [
        "",
        "| ratio (per round) | value | target |",
        "|---|---:|---:|",
        f"| read_osm ÷ DuckDB read + join | {ratios(col('read'), col('duckdb'))} | ≤ 1.3× |",
        f"| load_city ÷ DuckDB read + join | {ratios(col('load'), col('duckdb'))} | – |",
        f"| read_osm ÷ osmium cat | {ratios(col('read'), col('osmium'))} | – |",
        "| access step ÷ raw scipy searches | "
        f"{ratios(step('check_cells', 'access'), col('check_cells', 'search_floor_s'))} | ≤ 1.3× |",
        "| coverage steps (cells) ÷ land-cell floor | "
        f"{ratios(cov_cells, col('check_cells', 'cells_floor_s'))} | ≤ 1.3× |",
        "| load + check (cells) | "
        + " / ".join(
            f"{a + b:.1f} s" for a, b in zip(col("load"), col("check_cells"), strict=False)
        )
        + " | ≤ 40 s dense 1M |",
    ]
    return "\n".join(lines)


#: issue 28's targets: (label, unit, limit); each is met when a round's figure is at most the limit
TARGETS = (
    ("read_osm ÷ DuckDB read + join", "×", 1.3),
    ("access step ÷ raw scipy searches", "×", 1.3),
    ("coverage steps (cells) ÷ land-cell floor", "×", 1.3),
    ("layers step of load_city, dense 1M", "s", 5.0),
    ("load + check (cells), dense 1M", "s", 40.0),
    ("check (cells) peak memory, dense 1M", "MB", 3000.0),
    ("load + check, sparse 1M", "s", 45.0),
    ("load + check peak memory, sparse 1M", "MB", 4000.0),
    ("one-park scenario re-run", "s", 1.0),
)


def target_figures(runs: list[dict[str, dict[str, Any]]]) -> list[list[float]]:
    """Per target of :data:`TARGETS`, its figure in each round that measured it."""

    def per_round(f: Any) -> list[float]:
        out = []
        for r in runs:
            try:
                v = f(r)
            except (KeyError, TypeError, ZeroDivisionError):
                continue
            if v is not None:
                out.append(float(v))
        return out

    def cov(r: dict[str, dict[str, Any]]) -> float:
        st = r["check_cells"]["steps"]
        return float(st["life_circles"] + st["parks"] + st["bus_stops"])

    return [
        per_round(lambda r: r["read"]["s"] / r["duckdb"]["s"]),
        per_round(
            lambda r: r["check_cells"]["steps"]["access"] / r["check_cells"]["search_floor_s"]
        ),
        per_round(lambda r: cov(r) / r["check_cells"]["cells_floor_s"]),
        per_round(lambda r: r["load"]["steps"]["layers"]),
        per_round(lambda r: r["load"]["s"] + r["check_cells"]["s"]),
        per_round(lambda r: r["check_cells"]["peak_mb"]),
        per_round(lambda r: r["sparse"]["s"]),
        per_round(lambda r: r["sparse"]["peak_mb"]),
        per_round(lambda r: r["rerun"]["s"]),
    ]


def targets_table(runs: list[dict[str, dict[str, Any]]]) -> str:
    """Every target of issue 28: each round's figure, and met or missed by how much."""
    lines = ["| target | per round | limit | status |", "|---|---:|---:|---|"]
    for (label, unit, limit), vals in zip(TARGETS, target_figures(runs), strict=True):
        if unit == "MB":
            shown = " / ".join(f"{v:,.0f} MB" for v in vals)
        else:
            shown = " / ".join(f"{v:.2f}{unit}" if unit == "×" else f"{v:.1f} s" for v in vals)
        lim = (
            f"{limit:,.0f} MB"
            if unit == "MB"
            else f"{limit:g}{unit}"
            if unit == "×"
            else f"{limit:g} s"
        )
        if not vals:
            status = "not measured"
        elif all(v <= limit for v in vals):
            status = "**met**"
        elif any(v <= limit for v in vals):
            status = f"met in {sum(v <= limit for v in vals)} of {len(vals)} rounds"
        else:
            status = f"missed: best {min(vals) / limit:.2f}× the limit"
        lines.append(f"| {label} | {shown or '–'} | ≤ {lim} | {status} |")
    return "\n".join(lines)


def write_doc(block: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = f"{head}{BEGIN}\n{block}\n{END}{tail}"
    else:
        title = "## Stages against their floors (issue 28, `bench/floors.py`)"
        text += f"\n{title}\n\n{BEGIN}\n{block}\n{END}\n"
    DOC.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--stages", default=",".join(STAGES))
    ap.add_argument("--child", default="", help=argparse.SUPPRESS)
    ap.add_argument("--no-doc", action="store_true", help="print only, leave docs/ alone")
    ap.add_argument("--sparse", default="", help="the sparse city's PBF (load + check), or none")
    ap.add_argument(
        "--rerun-n", type=int, default=0, help="Chengdu N×N of the one-park re-run (0: skip)"
    )
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(_run_child(args.child, args.file)))
        return 0
    stages = [s for s in args.stages.split(",") if s and s not in ("sparse", "rerun")]
    stages += ["sparse"] if args.sparse else []
    stages += ["rerun"] if args.rerun_n else []
    where = {"sparse": args.sparse, "rerun": str(args.rerun_n)}
    runs: list[dict[str, dict[str, Any]]] = []
    for i in range(args.rounds):
        r: dict[str, dict[str, Any]] = {}
        for s in stages:
            r[s] = _child(s, where.get(s, args.file))
            print(f"round {i + 1} {s}: {r[s].get('s')}", file=sys.stderr, flush=True)
        for s in STAGES:
            r.setdefault(s, {"s": None})
        runs.append(r)
    block = table(args.file, runs)
    if args.sparse or args.rerun_n:
        sparse = f"`{Path(args.sparse).name}` (whole extent)" if args.sparse else "not run"
        block += (
            f"\n\nIssue 28's targets (sparse city: {sparse}; one-park re-run: Chengdu "
            f"{args.rerun_n}×{args.rerun_n}, `bench/scenario_edit.py`):\n\n" + targets_table(runs)
        )
    print(block)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "floors.json").write_text(json.dumps(runs, indent=1, default=str), encoding="utf-8")
    if not args.no_doc:
        write_doc(block)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
