"""OSM tag rules: the ``{key: value}`` rules of the data files, and how they are applied fast.

:class:`TagRule` is one rule as the YAML files in ``geoplan/data`` write it; :func:`any_match`
tries a rule set indexed by its first key; :class:`TagSets` evaluates a predicate once per distinct
combination of the tags it reads. The taxonomy (:mod:`geoplan.rules.taxonomy`), the barrier rules
(:mod:`geoplan.rules.barriers`) and the street rules (:mod:`geoplan.rules.streets`) build on it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, TypeVar

import numpy as np
import yaml
from numpy.typing import NDArray

from geoplan.rules.tag_table import TagTable

Tags = Mapping[str, str]


def load_yaml(name: str) -> Any:
    """Parse a YAML data file shipped in ``geoplan/data``.

    Parameters
    ----------
    name
        File name in ``geoplan/data`` (``taxonomy.yaml``).

    Returns
    -------
    Any
        The parsed YAML.
    """
    text = resources.files("geoplan").joinpath("data", name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


#: tags the pseudo-key ``name~`` searches
NAME_KEYS: tuple[str, ...] = ("name", "name:zh", "name:en", "official_name", "alt_name")


@dataclass(frozen=True)
class TagRule:
    """All ``key -> allowed values`` pairs and all ``key~ -> substrings`` pairs must hold.

    ``pairs``: exact values (``None`` = any value). ``contains``: the tag's value must contain
    one of the substrings (case-insensitive); key ``name`` searches every name tag
    (:data:`NAME_KEYS`).
    """

    pairs: tuple[tuple[str, frozenset[str] | None], ...]
    contains: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def parse(cls, spec: Mapping[str, Any]) -> TagRule:
        """A rule from its data-file form ``{key: value | [values] | "*", "key~": [subs]}``.

        Parameters
        ----------
        spec
            The rule as written in a data file.

        Returns
        -------
        TagRule
        """
        pairs: list[tuple[str, frozenset[str] | None]] = []
        contains: list[tuple[str, tuple[str, ...]]] = []
        for k, v in spec.items():
            key = str(k)
            if key.endswith("~"):
                subs = v if isinstance(v, list) else [v]
                contains.append((key[:-1], tuple(str(x).lower() for x in subs)))
            elif v == "*":
                pairs.append((key, None))
            elif isinstance(v, list):
                pairs.append((key, frozenset(str(x) for x in v)))
            else:
                pairs.append((key, frozenset([str(v)])))
        return cls(tuple(pairs), tuple(contains))

    def matches(self, tags: Tags) -> bool:
        """Whether ``tags`` satisfy the rule.

        Parameters
        ----------
        tags
            OSM tags of the feature.

        Returns
        -------
        bool
        """
        for k, allowed in self.pairs:
            v = tags.get(k)
            if v is None or (allowed is not None and v not in allowed):
                return False
        for k, subs in self.contains:
            keys = NAME_KEYS if k == "name" else (k,)
            text = " ".join(tags.get(x, "") for x in keys).lower()
            if not any(sub in text for sub in subs):
                return False
        return True


def any_match(rules: Sequence[TagRule], tags: Tags) -> bool:
    """Whether any of ``rules`` matches ``tags``.

    A rule can only hold when the key of its first ``key -> value`` pair is present, so the
    rules are indexed by that key once per rule set and only those whose key the tags have are
    tried (rules without pairs always are): the answer is that of trying every rule.

    Parameters
    ----------
    rules
        Rules (a tuple of the taxonomy is indexed once by its first key).
    tags
        OSM tags of the feature.

    Returns
    -------
    bool
    """
    by_key, always = _rule_index(rules)
    for k, group in by_key:
        if k in tags:
            for r in group:
                if r.matches(tags):
                    return True
    return any(r.matches(tags) for r in always)


_RULE_INDEX: dict[int, tuple[Sequence[TagRule], Any]] = {}


def _rule_index(
    rules: Sequence[TagRule],
) -> tuple[tuple[tuple[str, tuple[TagRule, ...]], ...], tuple[TagRule, ...]]:
    got = _RULE_INDEX.get(id(rules))
    if got is not None and got[0] is rules:
        return got[1]
    by_key: dict[str, list[TagRule]] = {}
    always: list[TagRule] = []
    for r in rules:
        if r.pairs:
            by_key.setdefault(r.pairs[0][0], []).append(r)
        else:
            always.append(r)
    idx = (tuple((k, tuple(v)) for k, v in by_key.items()), tuple(always))
    if isinstance(rules, tuple):  # kept alive by the taxonomy: its id stays its own
        _RULE_INDEX[id(rules)] = (rules, idx)
    return idx


def parse_rules(specs: Sequence[Mapping[str, Any]] | None) -> tuple[TagRule, ...]:
    """Rules from their data-file form (a list of ``{key: value …}`` mappings).

    Parameters
    ----------
    specs
        The rules as written, or ``None``.

    Returns
    -------
    tuple of TagRule
    """
    return tuple(TagRule.parse(s) for s in specs or ())


def rule_keys(rules: Iterable[TagRule]) -> frozenset[str]:
    """Every tag key ``rules`` read (``name~`` reads every :data:`NAME_KEYS` tag).

    Parameters
    ----------
    rules
        Tag rules.

    Returns
    -------
    frozenset of str
    """
    keys: set[str] = set()
    for r in rules:
        keys.update(k for k, _ in r.pairs)
        for k, _ in r.contains:
            keys.update(NAME_KEYS if k == "name" else (k,))
    return frozenset(keys)


_T = TypeVar("_T")


class TagSets:
    """The distinct tag sets of many features, restricted to the keys some rules read.

    A rule's answer depends only on the tags it reads, so a predicate over ``keys`` is
    evaluated once per distinct combination of those tags (a city has thousands, against
    millions of features: ``building=yes`` with an address is one combination) and mapped back
    to every feature — the answer of calling it on each feature's own tags.

    Parameters
    ----------
    tags
        One tag dict per feature, or a :class:`~geoplan.rules.tag_table.TagTable` (grouped on
        its codes).
    keys
        The keys the predicates read (the layer rules':
        :func:`geoplan.rules.taxonomy.layer_rule_keys`); a predicate that reads another key must
        not be applied.
    """

    distinct: list[dict[str, str]]
    inverse: NDArray[np.int64]
    keys: frozenset[str]

    def __init__(self, tags: Iterable[Tags], keys: frozenset[str]) -> None:
        self.keys = keys
        if isinstance(tags, TagTable):  # grouped on the codes, no dict per feature
            self.distinct, self.inverse = tags.distinct_sets(keys)
            return
        ks = keys
        index: dict[frozenset[tuple[str, str]], int] = {}
        inverse: list[int] = []
        add = inverse.append
        get = index.get
        for t in tags:
            # a membership test per key: half the time of building ``t.keys() & ks``
            sig = frozenset([(k, t[k]) for k in t if k in ks])
            i = get(sig)
            if i is None:
                i = index[sig] = len(index)
            add(i)
        self.distinct = [dict(sig) for sig in index]
        self.inverse = np.asarray(inverse, dtype=np.int64)

    def __len__(self) -> int:
        """Number of features.

        Returns
        -------
        int
        """
        return int(self.inverse.shape[0])

    def map(self, fn: Callable[[dict[str, str]], _T]) -> list[_T]:
        """``[fn(t) for t in tags]``, with ``fn`` called once per distinct tag set.

        Parameters
        ----------
        fn
            A function of a tag dict that reads only ``keys``.

        Returns
        -------
        list
            One answer per feature.
        """
        got = [fn(t) for t in self.distinct]
        return [got[i] for i in self.inverse.tolist()]

    def mask(self, fn: Callable[[dict[str, str]], bool]) -> NDArray[np.bool_]:
        """``fn`` of every feature's tags as a boolean array (once per distinct tag set).

        Parameters
        ----------
        fn
            A predicate of a tag dict that reads only ``keys``.

        Returns
        -------
        ndarray of bool
            One flag per feature.
        """
        n = len(self.distinct)
        got = np.fromiter((bool(fn(t)) for t in self.distinct), dtype=bool, count=n)
        return got[self.inverse] if self.inverse.size else np.zeros(0, dtype=bool)
