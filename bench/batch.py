"""Batch speed-up (issue 15): 1 vs 2 local workers and a Dask LocalCluster on ≥ 8 places.

The places are the copies of the Chengdu study box in an N×N bench tile (``bench/tile.py``): one
shared extract, one place per copy, each checked against the 安阳 2023 sheet with its map. Each
engine runs in a fresh output folder (no skipping); wall time includes process or cluster start.
Prints a Markdown table and, with ``--write``, puts it in docs/benchmarks.md.

    .venv/bin/python bench/batch.py --n 3 --write
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from tile import tile_pbf  # noqa: E402

SRC = HERE.parent.parent / "shared" / "data" / "chengdu_2018_center.osm.pbf"
CORE = (104.0421, 30.6528, 104.1296, 30.7279)
DOC = HERE.parent / "docs" / "benchmarks.md"
START, END = "<!-- batch:start -->", "<!-- batch:end -->"


def batch_file(out: Path, n: int) -> tuple[Path, int]:
    """Tile the extract n×n and write a batch file of one place per copy."""
    pbf = out / f"chengdu_{n}x{n}.osm.pbf"
    if not pbf.exists():
        info = tile_pbf(SRC, pbf, n)
        dx, dy = info.dx_deg, info.dy_deg
    else:
        info = tile_pbf(SRC, out / "probe_1x1.osm.pbf", 1)
        dx, dy = info.dx_deg, info.dy_deg
    lines = [f"name: bench_{n}x{n}", f"osm: {pbf}", "defaults: {targets: anyang-2023}", "places:"]
    k = 0
    for i in range(n):
        for j in range(n):
            x0, y0, x1, y1 = CORE
            box = [
                round(x0 + i * dx, 7),
                round(y0 + j * dy, 7),
                round(x1 + i * dx, 7),
                round(y1 + j * dy, 7),
            ]
            lines.append(f"  - {{name: copy_{i}_{j}, boundary: {box}}}")
            k += 1
    f = out / f"batch_{n}x{n}.yaml"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return f, k


def run(f: Path, out: Path, **kw: object) -> tuple[float, pd.DataFrame]:
    from geoplan.batch import run_batch

    if out.exists():
        shutil.rmtree(out)
    t = time.perf_counter()
    res = run_batch(f, out, **kw)  # type: ignore[arg-type]
    wall = time.perf_counter() - t
    assert not res.failed, res.failed
    figs = res.table.drop(columns=["seconds", "status"]).set_index("name").sort_index()
    return wall, figs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=3, help="copies per side (places = n²; default 3)")
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    a = ap.parse_args(argv)
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    f, places = batch_file(out, a.n)
    t1, base = run(f, out / "batch_w1")
    t2, pool = run(f, out / "batch_w2", workers=2)
    td, dask = run(f, out / "batch_dask2", dask_local=2)
    pd.testing.assert_frame_equal(pool, base)
    pd.testing.assert_frame_equal(dask, base)
    cpu = os.cpu_count()
    rows = [
        ("serial (1 process)", t1, 1.0),
        ("process pool, 2 workers", t2, t1 / t2),
        ("Dask LocalCluster, 2 workers", td, t1 / td),
    ]
    table = [
        f"{START}",
        f"`bench/batch.py --n {a.n}`: {places} places (the copies of the Chengdu study box in the "
        f"{a.n}×{a.n} bench tile, one shared extract), 安阳 2023 sheet, every place's outputs and "
        f"map; {cpu} cores. Figures identical across engines (asserted).",
        "",
        "| engine | wall | speed-up vs serial | per place |",
        "|---|---:|---:|---:|",
        *(f"| {n} | {t:.1f} s | {s:.2f}× | {t / places:.2f} s |" for n, t, s in rows),
        "",
        f"Dask overhead over the process pool: {(td - t2) / places:+.2f} s per place "
        f"({td - t2:+.1f} s in all, cluster start included).",
        f"{END}",
    ]
    block = "\n".join(table)
    print(block)
    if a.write:
        doc = DOC.read_text(encoding="utf-8")
        if START in doc:
            pre, rest = doc.split(START, 1)
            post = rest.split(END, 1)[1]
            doc = pre + block + post
        else:
            doc += "\n## Batch runs (issue 15)\n\n" + block + "\n"
        DOC.write_text(doc, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
