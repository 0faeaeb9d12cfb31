"""The relations of a column read: multipolygon areas and stop areas.

A city has tens of thousands of relations against millions of nodes and ways: their tags are
read one relation at a time (Python dicts), their members as flat arrays. Which relations are
areas, and their tags, follow libosmium's area assembler and :func:`geoplan.io.osm._add_area`:
``type=multipolygon`` or ``type=boundary``, the tags without ``type``, a key geoplan reads other
than ``highway`` alone.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from geoplan.io.osm_raw import KEYS


@dataclass
class Relations:
    """The relations of a read: multipolygon areas (with member way rows) and stop areas."""

    ids: NDArray[np.int64]
    tags: list[dict[str, str]]
    offsets: NDArray[np.int64]
    members: NDArray[np.int64]
    stop_areas: list[tuple[dict[str, str], list[tuple[str, int]]]]


#: the area relation types libosmium assembles
_AREA_TYPES = ("multipolygon", "boundary")


def relations(parts: list[dict[str, Any]], way_ids: NDArray[np.int64]) -> Relations:
    """Area and stop-area relations (one Python step each for the tags), members as way rows.

    Parameters
    ----------
    parts
        The scan's record batches (:func:`geoplan.io.osm_columns.scan`): relation ids, tags,
        whether each has a key geoplan reads, member refs and member types.
    way_ids
        Every way id of the file, file order.

    Returns
    -------
    Relations
    """
    keys = set(KEYS)
    ids: list[int] = []
    tags: list[dict[str, str]] = []
    member_refs: list[NDArray[np.int64]] = []
    counts: list[NDArray[np.int64]] = []
    stops: list[tuple[dict[str, str], list[tuple[str, int]]]] = []
    for q in parts:
        if not q["rel_ids"].size:
            continue
        off, refs, types = _list_columns(q["rel_refs"], q["rel_types"])
        is_way = types == "w"
        chosen = np.zeros(q["rel_ids"].shape[0], dtype=bool)
        # only relations with a key geoplan reads get a tag dict (not the admin boundaries)
        look = np.flatnonzero(q["rel_key"])
        rows = zip(
            look.tolist(),
            q["rel_ids"][look].tolist(),
            q["rel_tags"].take(look).to_pylist(),
            strict=True,
        )
        for i, rid, pairs in rows:
            t = {sys.intern(k): sys.intern(v) for k, v in pairs or ()}
            if t.get("public_transport") == "stop_area":
                a, b = int(off[i]), int(off[i + 1])
                stops.append((t, list(zip(types[a:b].tolist(), refs[a:b].tolist(), strict=True))))
            if t.get("type") not in _AREA_TYPES:
                continue
            t = {k: v for k, v in t.items() if k != "type"}  # as libosmium's area tags
            has = keys.intersection(t)
            if not has or has == {"highway"}:  # not an area geoplan reads (as osm._add_area)
                continue
            ids.append(rid)
            tags.append(t)
            chosen[i] = True
        way_member = np.repeat(chosen, np.diff(off)) & is_way
        member_refs.append(refs[way_member])
        rel_of = np.repeat(np.arange(chosen.shape[0]), np.diff(off))
        counts.append(np.bincount(rel_of[way_member], minlength=chosen.shape[0])[chosen])
    flat = np.concatenate(member_refs) if member_refs else np.zeros(0, np.int64)
    order = None
    if way_ids.size and not bool(np.all(way_ids[1:] > way_ids[:-1])):
        order = np.argsort(way_ids, kind="stable")
    sorted_ids = way_ids[order] if order is not None else way_ids
    members = np.full(flat.shape[0], -1, dtype=np.int64)
    if sorted_ids.size and flat.size:
        pos = np.minimum(np.searchsorted(sorted_ids, flat), sorted_ids.shape[0] - 1)
        found = sorted_ids[pos] == flat
        members[found] = order[pos[found]] if order is not None else pos[found]
    n_members = np.concatenate(counts) if counts else np.zeros(0, np.int64)
    return Relations(
        np.asarray(ids, dtype=np.int64),
        tags,
        np.concatenate([[0], np.cumsum(n_members)]).astype(np.int64),
        members,
        stops,
    )


def _list_columns(refs_col: Any, types_col: Any) -> tuple[NDArray[np.int64], Any, Any]:
    """Offsets from 0, flat member refs, and member types as "n" / "w" / "r" (numpy)."""
    import pyarrow.compute as pc

    off = refs_col.offsets.to_numpy(zero_copy_only=False).astype(np.int64)
    refs = pc.list_flatten(refs_col).to_numpy(zero_copy_only=False).astype(np.int64)
    enc = pc.list_flatten(types_col).dictionary_encode()
    letters = np.array([str(v)[:1] for v in enc.dictionary.to_pylist()], dtype=object)
    types = letters[enc.indices.to_numpy(zero_copy_only=False)]
    return off - off[0], refs, types
