"""Checklists of facilities a unit must hold (完整居住社区), from ``data/checklists.yaml``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from geoplan.rules.datafile import DATA_DIR, read_yaml

CHECKLISTS_PATH = DATA_DIR / "checklists.yaml"


@dataclass(frozen=True, slots=True)
class Item:
    """One item of a checklist: held when a facility of one of its categories is in the unit.

    Attributes
    ----------
    key, label_zh, label_en
        Item key and labels.
    categories
        Facility categories (``taxonomy.yaml``) or green kinds (``park``, ``green``) that meet it.
    """

    key: str
    label_zh: str
    label_en: str
    categories: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Checklist:
    """A checklist (完整居住社区): its items, source and what a map cannot show.

    Attributes
    ----------
    key, label_zh, label_en, source
        Key, labels and the standard it follows.
    items
        The items a map can check.
    not_mapped
        Items of the standard a map cannot show (reported as such).
    """

    key: str
    label_zh: str
    label_en: str
    source: str
    items: tuple[Item, ...]
    not_mapped: tuple[str, ...]


@cache
def checklists() -> dict[str, Checklist]:
    """Every checklist of the data file, by key.

    Returns
    -------
    dict of str to Checklist
    """
    raw = read_yaml(CHECKLISTS_PATH)
    out = {}
    for key, c in raw.items():
        items = tuple(
            Item(str(i["key"]), str(i["label_zh"]), str(i["label_en"]), tuple(i["categories"]))
            for i in c["items"]
        )
        out[key] = Checklist(
            key,
            str(c["label_zh"]),
            str(c["label_en"]),
            str(c["source"]),
            items,
            tuple(str(x) for x in c.get("not_mapped") or ()),
        )
    return out
