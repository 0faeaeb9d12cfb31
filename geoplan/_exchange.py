"""Swap a folder for its next version in one step (Linux ``renameat2(RENAME_EXCHANGE)``).

An output set committed this way is never half there: the new version of the folder (the files
of the set, plus every other file the folder held, hard-linked) is built beside it, then the two
folders trade names in one system call. A process killed at any moment leaves the folder as it
was or as it will be; a reader sees one or the other. Where the call is missing (not Linux, or
a filesystem without it) or the folder is the working directory, :mod:`geoplan._outputs_set`
falls back to its journal.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import sys
import tempfile
from functools import cache
from pathlib import Path

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
#: prefix of the folder a version is built in, beside the folder it replaces (+ its name)
NEW_PREFIX = ".geoplan-next-"


def _renameat2() -> object | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def exchange(a: Path, b: Path) -> None:
    """Give ``a`` the name ``b`` and ``b`` the name ``a``, atomically.

    Parameters
    ----------
    a, b
        Two existing paths on one filesystem.

    Raises
    ------
    OSError
        When the system cannot (``EINVAL``: the filesystem does not support it).
    """
    fn = _renameat2()
    if fn is None:
        raise OSError(38, "renameat2 is not available here")
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)  # type: ignore[operator]
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), str(a))


@cache
def _supported(parent: str) -> bool:
    """Whether two folders in ``parent`` can be exchanged (tried once per folder)."""
    try:
        x = Path(tempfile.mkdtemp(prefix=".geoplan-probe-", dir=parent))
        y = Path(tempfile.mkdtemp(prefix=".geoplan-probe-", dir=parent))
    except OSError:
        return False
    try:
        exchange(x, y)
        return True
    except OSError:
        return False
    finally:
        shutil.rmtree(x, ignore_errors=True)
        shutil.rmtree(y, ignore_errors=True)


def can_exchange(folder: Path) -> bool:
    """Whether ``folder`` can be swapped for its next version in one step.

    Parameters
    ----------
    folder
        An existing output folder.

    Returns
    -------
    bool
        False when the call is missing, the filesystem lacks it, the folder is a link, or the
        working directory lies inside it (swapping it would move the process's own directory).
    """
    if not folder.is_dir() or folder.is_symlink() or _renameat2() is None:
        return False
    here = Path.cwd().resolve()
    real = folder.resolve()
    if here == real or real in here.parents:
        return False
    return _supported(str(real.parent))


def next_version(
    folder: Path, skip: set[Path], replaced: set[Path], *, into: Path | None = None
) -> Path:
    """A new folder beside ``folder`` holding every file of it but ``replaced``, hard-linked.

    Parameters
    ----------
    folder
        The output folder.
    skip
        Top-level entries not carried over (the set's staging folder).
    replaced
        Paths relative to ``folder`` the set writes anew.
    into
        An empty folder beside ``folder`` to build the version in (default: a new one).

    Returns
    -------
    Path
        The new folder (same filesystem; a copy where a hard link is refused).
    """
    new = into if into is not None else new_version_dir(folder)
    shutil.copymode(folder, new)  # mkdtemp makes it private (0700): keep the folder's own mode
    for root, dirs, files in os.walk(folder):
        r = Path(root)
        rel_root = r.relative_to(folder)
        if rel_root == Path("."):
            dirs[:] = [d for d in dirs if r / d not in skip]
        for d in dirs:
            (new / rel_root / d).mkdir(exist_ok=True)
            shutil.copymode(r / d, new / rel_root / d)
        for f in files:
            src, rel = r / f, rel_root / f
            if rel in replaced or f.startswith(".geoplan-commit-"):
                continue
            dst = new / rel
            if src.is_symlink():
                os.symlink(os.readlink(src), dst)
                continue
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)
    return new


def new_version_dir(folder: Path) -> Path:
    """An empty folder beside ``folder`` for its next version (swept if a run is killed).

    Parameters
    ----------
    folder
        The output folder.

    Returns
    -------
    Path
    """
    return Path(tempfile.mkdtemp(prefix=f"{NEW_PREFIX}{folder.name}-", dir=folder.parent))


def sweep(folder: Path) -> None:
    """Remove the versions a killed run left beside ``folder`` (built or swapped out).

    Called with the folder's lock held, so no other run is building one of them.

    Parameters
    ----------
    folder
        The output folder.
    """
    for p in folder.parent.glob(f"{NEW_PREFIX}{folder.name}-*"):
        with contextlib.suppress(OSError):
            shutil.rmtree(p)
