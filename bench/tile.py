"""Build large OSM inputs from a real extract by tiling it N×N.

Copy ``(i, j)`` (``0 <= i, j < N``) of every node is shifted by ``(i·dx, j·dy)`` degrees, where
``dx × dy`` is the size of the bounding box of all node locations in the extract, so the copies sit
side by side without overlapping. Every id is offset per copy (``id + k·stride`` with
``k = i·N + j`` and ``stride`` a power of ten above the largest id of that object type), and so
are way node references and relation members, so ids stay unique and sorted by type then id.
The topology inside each copy is the real one; copies do not connect to each other.

The output is a stand-in for a large city: tiling central Chengdu 17×17 gives ~7.1M OSM nodes
and ~1.03M walk-network graph nodes (see ``docs/benchmarks.md``).

How it is fast: the extract is rendered once to OPL text by libosmium (C++), each copy is
re-emitted as OPL text with shifted ids and coordinates (plain string formatting, no OSM objects
in Python) and parsed and written to PBF by libosmium via ``osmium.apply(reader, SimpleWriter)``,
which runs without Python callbacks. This streams: only the original extract and one copy's text
are in memory. (Building ``osmium.osm.mutable`` objects per node and calling
``SimpleWriter.add_node`` costs ~6 µs per node, about 3× slower.)

Usage::

    python bench/tile.py ../shared/data/chengdu_2018_center.osm.pbf 4 -o bench/out/chengdu_4.osm.pbf

Data © OpenStreetMap contributors (ODbL).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import osmium

__all__ = ["Extract", "TileInfo", "read_extract", "tile_pbf"]

#: libosmium stores coordinates as integers in units of 1e-7 degree
E7 = 10_000_000


@dataclass
class Extract:
    """An OSM extract held as OPL pieces (ids and coordinates as ints, tags pre-escaped)."""

    #: (id, x_e7 or None, y_e7 or None, " T…" tag field or "")
    nodes: list[tuple[int, int | None, int | None, str]]
    #: (id, " T…" tag field or "", node refs)
    ways: list[tuple[int, str, list[int]]]
    #: (id, " T…" tag field or "", members as (type letter, ref, escaped role))
    relations: list[tuple[int, str, list[tuple[str, int, str]]]]

    def bbox_e7(self) -> tuple[int, int, int, int]:
        """(min_x, min_y, max_x, max_y) of all node locations, 1e-7 degree units."""
        xs = [x for _, x, _, _ in self.nodes if x is not None]
        ys = [y for _, _, y, _ in self.nodes if y is not None]
        if not xs:
            raise ValueError("the extract has no node with a location; nothing to tile")
        return min(xs), min(ys), max(xs), max(ys)


@dataclass(frozen=True)
class TileInfo:
    """What :func:`tile_pbf` wrote."""

    source: Path
    path: Path
    n: int
    #: shift between neighbouring copies, degrees (exact multiples of 1e-7)
    dx_deg: float
    dy_deg: float
    #: id offset between consecutive copies, per object type
    stride: dict[str, int]
    nodes: int
    ways: int
    relations: int
    seconds: float


def _tag_field(fields: list[str]) -> str:
    for f in fields:
        if f.startswith("T") and len(f) > 1:
            return " " + f
    return ""


def _coord(field: str) -> int | None:
    v = field[1:]
    return round(float(v) * E7) if v else None


def read_extract(src: str | Path) -> Extract:
    """Read an OSM file into OPL pieces (libosmium renders the OPL, Python splits it)."""
    nodes: list[tuple[int, int | None, int | None, str]] = []
    ways: list[tuple[int, str, list[int]]] = []
    rels: list[tuple[int, str, list[tuple[str, int, str]]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        opl = Path(tmp) / "extract.opl"
        writer = osmium.SimpleWriter(str(opl))
        osmium.apply(str(src), writer)
        writer.close()
        with opl.open(encoding="utf-8") as fh:
            for line in fh:
                fields = line.rstrip("\n").split(" ")
                kind, oid = fields[0][0], int(fields[0][1:])
                tags = _tag_field(fields)
                if kind == "n":
                    x = y = None
                    for f in fields[1:]:
                        if f[0] == "x":
                            x = _coord(f)
                        elif f[0] == "y":
                            y = _coord(f)
                    nodes.append((oid, x, y, tags))
                elif kind == "w":
                    refs = next((f[1:] for f in fields[1:] if f[0] == "N"), "")
                    ways.append((oid, tags, [int(r[1:]) for r in refs.split(",") if r]))
                elif kind == "r":
                    mem = next((f[1:] for f in fields[1:] if f[0] == "M"), "")
                    members = []
                    for m in mem.split(",") if mem else []:
                        ref, _, role = m.partition("@")
                        members.append((ref[0], int(ref[1:]), role))
                    rels.append((oid, tags, members))
    return Extract(nodes, ways, rels)


def _stride(ids: list[int]) -> int:
    """A power of ten above every |id|; doubled when negative ids exist so copies never collide."""
    if not ids:
        return 1
    big = max(abs(min(ids)), abs(max(ids)))
    s = 10 ** len(str(big))
    return 2 * s if min(ids) < 0 else s


def _fmt(v_e7: int) -> str:
    return f"{v_e7 / E7:.7f}"


def _nodes_opl(ex: Extract, off: int, sx: int, sy: int) -> str:
    out = []
    for oid, x, y, tags in ex.nodes:
        if x is None or y is None:
            out.append(f"n{oid + off}{tags} x y\n")
        else:
            out.append(f"n{oid + off}{tags} x{_fmt(x + sx)} y{_fmt(y + sy)}\n")
    return "".join(out)


def _ways_opl(ex: Extract, off: int, node_off: int) -> str:
    out = []
    for oid, tags, refs in ex.ways:
        nds = ",".join([f"n{r + node_off}" for r in refs])
        out.append(f"w{oid + off}{tags} N{nds}\n")
    return "".join(out)


def _relations_opl(ex: Extract, off: int, offs: dict[str, int]) -> str:
    out = []
    for oid, tags, members in ex.relations:
        mem = ",".join([f"{t}{r + offs[t]}@{role}" for t, r, role in members])
        out.append(f"r{oid + off}{tags} M{mem}\n")
    return "".join(out)


def tile_pbf(
    src: str | Path,
    dst: str | Path,
    n: int,
    *,
    extract: Extract | None = None,
) -> TileInfo:
    """Write ``n × n`` shifted copies of the OSM file ``src`` to the PBF file ``dst``.

    Parameters
    ----------
    src
        A real OSM extract (``.osm.pbf`` / ``.osm`` …), WGS84.
    dst
        Output ``.osm.pbf`` (overwritten).
    n
        Copies per side (``n >= 1``).
    extract
        ``read_extract(src)`` if already read (saves re-reading when tiling several sizes).

    Returns
    -------
    TileInfo
        Shift in degrees, id strides and object counts. The output header's bounding box covers
        all copies (so ``load_city`` takes the whole tiled area as its study area).
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    t0 = time.perf_counter()
    ex = extract if extract is not None else read_extract(src)
    minx, miny, maxx, maxy = ex.bbox_e7()
    dx, dy = maxx - minx, maxy - miny
    if (maxx + (n - 1) * dx) / E7 > 180 or (maxy + (n - 1) * dy) / E7 > 90:
        raise ValueError(f"{n}×{n} copies of {src} run past 180°E / 90°N; use a smaller n")
    stride = {
        "n": _stride([o[0] for o in ex.nodes]),
        "w": _stride([o[0] for o in ex.ways]),
        "r": _stride([o[0] for o in ex.relations]),
    }
    header = osmium.io.Header()
    header.add_box(
        osmium.osm.Box(
            osmium.osm.Location(minx / E7, miny / E7),
            osmium.osm.Location((maxx + (n - 1) * dx) / E7, (maxy + (n - 1) * dy) / E7),
        )
    )
    header.set("generator", "geoplan bench/tile.py")
    out = Path(dst)
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = osmium.SimpleWriter(str(out), header=header, overwrite=True)
    copies = [(i, j) for i in range(n) for j in range(n)]
    try:
        # nodes of every copy, then ways, then relations: ordered by type then id
        for kind in ("n", "w", "r"):
            for k, (i, j) in enumerate(copies):
                offs = {t: k * s for t, s in stride.items()}
                if kind == "n":
                    text = _nodes_opl(ex, offs["n"], i * dx, j * dy)
                elif kind == "w":
                    text = _ways_opl(ex, offs["w"], offs["n"])
                else:
                    text = _relations_opl(ex, offs["r"], offs)
                if text:
                    reader = osmium.io.Reader(osmium.io.FileBuffer(text.encode("utf-8"), "opl"))
                    osmium.apply(reader, writer)
                    reader.close()
    finally:
        writer.close()
    m = n * n
    return TileInfo(
        source=Path(src),
        path=out,
        n=n,
        dx_deg=dx / E7,
        dy_deg=dy / E7,
        stride=stride,
        nodes=m * len(ex.nodes),
        ways=m * len(ex.ways),
        relations=m * len(ex.relations),
        seconds=time.perf_counter() - t0,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src", type=Path, help="real OSM extract (.osm.pbf)")
    ap.add_argument("n", type=int, help="copies per side")
    ap.add_argument("-o", "--out", type=Path, help="output .osm.pbf (default bench/out/…)")
    args = ap.parse_args(argv)
    stem = args.src.name.split(".")[0]
    dst = args.out or Path(__file__).parent / "out" / f"{stem}_{args.n}x{args.n}.osm.pbf"
    info = tile_pbf(args.src, dst, args.n)
    print(
        f"{info.path}: {info.n}x{info.n} copies, shift ({info.dx_deg:.7f}°, {info.dy_deg:.7f}°), "
        f"{info.nodes:,} nodes, {info.ways:,} ways, {info.relations:,} relations, "
        f"{info.seconds:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
