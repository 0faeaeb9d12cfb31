"""OSM files: which format a file holds, and a one-line refusal when it is not one geoplan reads.

The format comes from the first bytes (PBF, XML, bzip2, gzip), checked against the name's ending,
so a renamed file is refused with the right name instead of failing deep in a reader.
"""

from __future__ import annotations

from pathlib import Path

from geoplan._errors import InputFileError

SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz", ".xml", ".osm.xml")


def check_osm_path(path: str | Path) -> Path:
    """Return ``path`` as a Path, or raise :class:`InputFileError` with a fix.

    Parameters
    ----------
    path
        The OSM file given.

    Returns
    -------
    Path
    """
    p = Path(path)
    if not p.exists():
        raise InputFileError(
            f"{p}: file not found; pass an existing .osm.pbf / .osm / .osm.bz2 file"
        )
    if not p.is_file():
        raise InputFileError(f"{p}: not a file; pass an .osm.pbf / .osm / .osm.bz2 file")
    name = p.name.lower()
    if not any(name.endswith(s) for s in SUFFIXES):
        raise InputFileError(
            f"{p}: unknown OSM file type; use one of {', '.join(SUFFIXES)} "
            "(plan layers go through --layer, not --osm)"
        )
    actual = sniff_format(p)
    expected = next(k for s, k in _SUFFIX_FORMAT if name.endswith(s))
    if actual is None:
        raise InputFileError(
            f"{p}: is not OSM data (neither PBF, XML, bzip2 nor gzip); export the extract again"
        )
    if actual != expected:
        good = {"pbf": ".osm.pbf", "xml": ".osm", "bz2": ".osm.bz2", "gz": ".osm.gz"}[actual]
        raise InputFileError(
            f"{p}: the file is {_FORMAT_NAMES[actual]} but its name says "
            f"{_FORMAT_NAMES[expected]}; rename it to end in {good}"
        )
    return p


#: (file-name ending, format), longest endings first
_SUFFIX_FORMAT = (
    (".osm.pbf", "pbf"),
    (".pbf", "pbf"),
    (".osm.bz2", "bz2"),
    (".osm.gz", "gz"),
    (".osm.xml", "xml"),
    (".osm", "xml"),
    (".xml", "xml"),
)
_FORMAT_NAMES = {
    "pbf": "OSM PBF",
    "xml": "OSM XML",
    "bz2": "bzip2-compressed",
    "gz": "gzip-compressed",
}


def sniff_format(p: Path) -> str | None:
    """The format of an OSM file from its first bytes: ``pbf``, ``xml``, ``bz2``, ``gz`` or None.

    Parameters
    ----------
    p
        A file.

    Returns
    -------
    str or None
    """
    with p.open("rb") as f:
        head = f.read(64)
    if head[:3] == b"BZh":
        return "bz2"
    if head[:2] == b"\x1f\x8b":
        return "gz"
    if b"OSMHeader" in head[:32]:
        return "pbf"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith((b"<?xml", b"<osm")):
        return "xml"
    return None
