"""Output sets: every file of one run is staged, then swapped into place together.

A run writes its tables, GeoPackages and maps through :func:`output_set`: each target folder gets a
hidden staging folder beside it (same filesystem), the run writes there, and only when the whole
set is complete are the files moved into place (``os.replace``, one rename each) and a manifest
``.geoplan-<name>.json`` recorded that lists them. An exception, Ctrl-C or SIGTERM before that
leaves the previous outputs untouched and no staging folder behind — never a mix of new and stale
files. The renames themselves are journalled: ``.geoplan-commit-<id>.json`` lists every move and
the previous file is kept aside until the set is complete, so a run killed *during* the renames
(SIGKILL, power cut, a full disk) is rolled back to the previous set by the next run that writes
into the folder (:func:`recover`); SIGTERM and Ctrl-C wait until the renames are done, and an
error among them rolls the set back at once. No output may coincide with an input (a planner's
file is never overwritten), and the checks of the output folders come first, with one-line errors
naming the folder and the fix. Where the system can swap two folders in one call
(:mod:`geoplan._exchange`), each folder's next version is built beside it and swapped in; a set of
several folders (tables here, the map there) is swapped folder by folder under set journals, and
a run killed between two swaps is rolled back in every folder by the next run into any of them
(:func:`recover_set`).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from geoplan import _exchange
from geoplan._errors import OutputError

#: commit a folder by swapping it for its next version where the system can (else the journal)
EXCHANGE = True


def check_output_dir(out: Path, *, flag: str = "--out") -> None:
    """Refuse an output folder that is a file or cannot be written, in one line with the fix.

    Parameters
    ----------
    out
        The output folder.
    flag
        The option that gave it (named in the message).
    """
    if out.exists() and not out.is_dir():
        raise OutputError(
            f"{out}: {flag} must be a folder, but this is an existing file; give a folder"
        )
    probe = out
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(f"{out}: {flag} lies under the file {probe}; give a folder path")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(
            f"{out}: cannot write in {probe} (permission denied); choose a folder you can write "
            f"to with {flag}"
        )


def check_output_file(path: Path, *, flag: str, suffix: str) -> None:
    """Refuse an output file path that is a folder or has the wrong extension.

    Parameters
    ----------
    path
        The output file.
    flag
        The option that gave it.
    suffix
        Its required extension (``.html`` …).
    """
    if path.is_dir():
        raise OutputError(f"{path}: {flag} is a folder; give a file path ending in {suffix}")
    if path.suffix.lower() != suffix:
        raise OutputError(f"{path}: {flag} must end in {suffix} (e.g. maps/city{suffix})")
    check_output_dir(path.parent, flag=flag)


#: the lock file a run holds in each output folder while it writes there (its pid inside)
LOCK = ".geoplan.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _holder(lock: Path) -> int | None:
    try:
        return int(lock.read_text(encoding="ascii").strip() or "0") or None
    except (OSError, ValueError):
        return None


def lock_folder(folder: Path, *, wait_s: float | None = None) -> Path:
    """Take the output lock of ``folder``; wait for a live holder, take over a dead one's.

    Two runs writing into one folder would interleave their renames into a mixed set; the second
    waits until the first has committed (``GEOPLAN_LOCK_WAIT_S``, default 600 s) and then writes
    its own complete set. Returns the lock file (removed by :meth:`OutputSet.cleanup`).

    Parameters
    ----------
    folder
        An output folder.
    wait_s
        Longest wait (s) for a live holder (default ``GEOPLAN_LOCK_WAIT_S`` or 600).

    Returns
    -------
    Path
        The lock file.
    """
    wait = float(os.environ.get("GEOPLAN_LOCK_WAIT_S", "600")) if wait_s is None else wait_s
    lock = folder / LOCK
    deadline = time.monotonic() + wait
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            pid = _holder(lock)
            if pid is None or pid == os.getpid() or not _alive(pid):
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()  # a crashed run's (or our own) lock
                continue
            if time.monotonic() >= deadline:
                raise OutputError(
                    f"{folder}: another geoplan run (pid {pid}) is writing here; wait for it to "
                    "finish or choose another --out"
                ) from None
            time.sleep(0.2)
            continue
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(str(os.getpid()))
        return lock


#: journal of a commit in progress: (staged source, destination, backup of the old file or null)
JOURNAL_GLOB = ".geoplan-commit-*.json"


def _write_json(path: Path, doc: Mapping[str, object]) -> None:
    """Write ``doc`` to ``path`` atomically and durably (fsync, then rename)."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def recover(folder: Path) -> int:
    """Roll back the commits a killed run left half done in ``folder``; the number undone.

    Each journal lists its moves; a move done is undone (the new file removed, the previous
    one put back from its backup), in reverse order. A journal marked done only needs removing.

    Parameters
    ----------
    folder
        An output folder.

    Returns
    -------
    int
        Moves undone.
    """
    undone = 0
    for journal in sorted(Path(folder).glob(JOURNAL_GLOB)):
        try:
            doc = json.loads(journal.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            journal.unlink(missing_ok=True)
            continue
        if doc.get("state") != "done":
            for src, dst, backup in reversed(doc.get("moves", [])):
                s_, d_, b_ = Path(src), Path(dst), Path(backup) if backup else None
                moved = not s_.exists() and d_.exists()
                if moved:
                    d_.unlink()  # the new file of the half-committed set
                if b_ is not None and b_.exists():
                    os.replace(b_, d_)  # the previous file back
                undone += int(moved)
        stage = doc.get("stage")
        if stage:
            shutil.rmtree(stage, ignore_errors=True)
        journal.unlink(missing_ok=True)
    return undone


#: marker of a folder version built by a commit (the id of its set)
VERSION_MARK = ".geoplan-version.json"


def _set_journal(folder: Path) -> Path:
    """The journal of a multi-folder commit beside ``folder``."""
    return folder.parent / f".geoplan-set-{folder.name}.json"


def recover_set(folder: Path) -> int:
    """Finish or roll back a multi-folder commit a killed run left, from any of its folders.

    The set journal beside ``folder`` lists every folder of the set and the version swapped
    with it. While the first folder's journal exists the set was not committed: every folder
    already swapped is swapped back (its marker names this set); after that, only the old
    versions and the journals are left to remove.

    Parameters
    ----------
    folder
        An output folder.

    Returns
    -------
    int
        Folders swapped back.
    """
    journal = _set_journal(Path(folder))
    try:
        doc = json.loads(journal.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return 0
    except (OSError, ValueError):
        journal.unlink(missing_ok=True)
        return 0
    undone = 0
    committed = not Path(str(doc.get("primary", ""))).exists()
    swaps = [(Path(t), Path(v)) for t, v in doc.get("swaps", [])]
    for target, version in reversed(swaps):  # last swapped first: a folder may hold another
        if not version.exists():
            continue
        if not committed and _mark(target) == doc.get("set") and _mark(version) != doc.get("set"):
            _exchange.exchange(version, target)  # the previous folder back
            undone += 1
        shutil.rmtree(version, ignore_errors=True)
    for target, _ in swaps:
        _set_journal(target).unlink(missing_ok=True)
    return undone


def _mark(folder: Path) -> object:
    try:
        return json.loads((folder / VERSION_MARK).read_text(encoding="utf-8")).get("set")
    except (OSError, ValueError, AttributeError):
        return None


class OutputSet:
    """Staged outputs of one run (see the module docstring).

    Parameters
    ----------
    name
        Name of the run (the manifest's name).
    inputs
        Input files of the run (an output may not overwrite one).
    """

    def __init__(self, name: str, inputs: Iterable[str | os.PathLike[str] | None] = ()) -> None:
        self.name = name
        self.inputs = {Path(p).resolve() for p in inputs if p is not None and Path(p).exists()}
        self._stages: dict[Path, Path] = {}
        self._locks: list[Path] = []

    def dir(self, target: str | os.PathLike[str]) -> Path:
        """A staging folder standing for the folder ``target`` (write there as if into it).

        Parameters
        ----------
        target
            A final output folder.

        Returns
        -------
        Path
            Its staging folder.
        """
        t = Path(target).absolute()
        stage = self._stages.get(t)
        if stage is None:
            t.mkdir(parents=True, exist_ok=True)
            self._locks.append(lock_folder(t))
            recover(t)  # a run killed while committing here: back to its previous set
            recover_set(t)  # (with the other folders of its set)
            _exchange.sweep(t)  # and the versions a killed run built beside it
            stage = Path(tempfile.mkdtemp(prefix=".geoplan-", suffix=".staging", dir=t))
            self._stages[t] = stage
        return stage

    def targets(self) -> list[Path]:
        """The target folders of this set.

        Returns
        -------
        list of Path
            Final folders.
        """
        return list(self._stages)

    def file(self, target: str | os.PathLike[str]) -> Path:
        """A staging path standing for the file ``target``.

        Parameters
        ----------
        target
            A final output file.

        Returns
        -------
        Path
            Its staging path.
        """
        t = Path(target).absolute()
        return self.dir(t.parent) / t.name

    def final(self, staged: Path) -> Path:
        """The final path of a staged path.

        Parameters
        ----------
        staged
            A path inside a staging folder.

        Returns
        -------
        Path
            Where it goes on commit.
        """
        for target, stage in self._stages.items():
            with contextlib.suppress(ValueError):
                return target / staged.relative_to(stage)
        return staged

    def _pairs(self) -> list[tuple[Path, Path]]:
        out = []
        for target, stage in self._stages.items():
            for p in sorted(stage.rglob("*")):
                if p.is_file() and not any(
                    part.startswith(".") for part in p.relative_to(stage).parts
                ):
                    out.append((p, target / p.relative_to(stage)))
        return out

    def commit(self) -> list[Path]:
        """Move every staged file into place; returns the final paths.

        Returns
        -------
        list of Path
            The final paths.
        """
        pairs = self._pairs()
        for _, dst in pairs:
            if dst.resolve() in self.inputs:
                raise OutputError(
                    f"{dst}: is also an input of this run; write the outputs to another folder"
                )
            if dst.exists() and dst.is_dir():
                raise OutputError(f"{dst}: a folder is in the way of an output file; move it")
        finals = [dst for _, dst in pairs]
        manifest = finals[0].parent / f".geoplan-{self.name}.json" if finals else None
        doc: dict[str, object] = {"name": self.name, "complete": True, "time": time.time()}
        doc["files"] = [str(p) for p in finals]
        rest: list[tuple[Path, Path]] = []
        swaps: list[tuple[Path, Path, list[tuple[Path, Path]]]] = []
        for target, stage in self._stages.items():
            mine = [(a, b) for a, b in pairs if a.is_relative_to(stage)]
            if mine and EXCHANGE and _exchange.can_exchange(target):
                swaps.append((target, stage, mine))
            else:
                rest += mine
        if swaps:
            self._swap_all(swaps, manifest, doc)
            if manifest is not None and any(manifest.is_relative_to(t) for t, _, _ in swaps):
                manifest = None  # written inside the new version
        moves = self._journal_moves(rest)
        journals = self._write_journals(moves)
        for src, dst, backup in moves:
            dst.parent.mkdir(parents=True, exist_ok=True)
            if backup is not None:
                os.replace(dst, backup)  # the previous file aside until the set is complete
            os.replace(src, dst)
        for journal in journals:  # complete: the backups go with the staging folder
            journal.unlink(missing_ok=True)
        if manifest is not None:
            _write_json(manifest, doc)
        return finals

    def _swap_all(
        self,
        swaps: list[tuple[Path, Path, list[tuple[Path, Path]]]],
        manifest: Path | None,
        doc: Mapping[str, object],
    ) -> None:
        """Build each folder's next version beside it, then trade names with each.

        One folder: the swap is the one step. Several (a check's tables and its map in another
        folder, or in the folder above): a set journal beside each folder lists every swap,
        and removing the first folder's journal is the commit point; a run killed before it is
        rolled back in every folder of the set by the next run into any of them
        (:func:`recover_set`), after it the set is complete. Each version is built just before
        its swap, so a folder holding another target of the set carries that target's new
        files.
        """
        set_id = uuid.uuid4().hex
        versions = [(t, _exchange.new_version_dir(t)) for t, _, _ in swaps]
        journals: list[Path] = []
        try:
            if len(versions) > 1:
                journals = [_set_journal(t) for t, _ in versions]
                jdoc = {
                    "set": set_id,
                    "primary": str(journals[0]),
                    "swaps": [[str(t), str(v)] for t, v in versions],
                }
                for j in journals:
                    _write_json(j, jdoc)
            for (target, stage, mine), (_, new) in zip(swaps, versions, strict=True):
                replaced = {b.relative_to(target) for _, b in mine}
                _exchange.next_version(target, {stage}, replaced, into=new)
                for a, b in mine:
                    dst = new / b.relative_to(target)
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(a, dst)
                if manifest is not None and manifest.is_relative_to(target):
                    _write_json(new / manifest.relative_to(target), doc)
                _write_json(new / VERSION_MARK, {"set": set_id})
                _exchange.exchange(new, target)  # before: the old folder; after: the new one
            for j in journals:  # the first one gone: committed
                j.unlink(missing_ok=True)
        except BaseException:
            if journals:
                recover_set(versions[0][0])
            raise
        finally:
            for _, new in versions:
                shutil.rmtree(new, ignore_errors=True)  # the old versions (or unused new ones)

    def _journal_moves(
        self, pairs: list[tuple[Path, Path]]
    ) -> list[tuple[Path, Path, Path | None]]:
        """Each move with the place its destination's previous file is kept during the commit."""
        out: list[tuple[Path, Path, Path | None]] = []
        for i, (src, dst) in enumerate(pairs):
            stage = next(s for t, s in self._stages.items() if src.is_relative_to(s))
            backup = stage / ".previous" / f"{i}_{dst.name}" if dst.exists() else None
            if backup is not None:
                backup.parent.mkdir(exist_ok=True)
            out.append((src, dst, backup))
        return out

    def _write_journals(self, moves: list[tuple[Path, Path, Path | None]]) -> list[Path]:
        """One journal per target folder, written before the first rename there."""
        journals = []
        for target, stage in self._stages.items():
            mine = [m for m in moves if m[0].is_relative_to(stage)]
            if not mine:
                continue
            journal = target / f".geoplan-commit-{stage.name}.json"
            doc = {
                "state": "moving",
                "stage": str(stage),
                "moves": [[str(a), str(b), str(c) if c else None] for a, b, c in mine],
            }
            _write_json(journal, doc)
            journals.append(journal)
        return journals

    def cleanup(self) -> None:
        """Remove the staging folders (and whatever is left in them) and release the locks."""
        for stage in self._stages.values():
            shutil.rmtree(stage, ignore_errors=True)
        for lock in self._locks:
            if _holder(lock) == os.getpid():
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()
        self._locks.clear()


def _commit_or_roll_back(outs: OutputSet) -> None:
    """Commit with SIGTERM / SIGINT held until the renames are done; on an error, roll back."""
    held = {signal.SIGTERM, signal.SIGINT}
    masked = hasattr(signal, "pthread_sigmask")
    if masked:
        signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        outs.commit()
    except BaseException:
        for target in outs.targets():
            recover(target)
        raise
    finally:
        if masked:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, held)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def output_set(
    name: str, inputs: Iterable[str | os.PathLike[str] | None] = ()
) -> Iterator[OutputSet]:
    """Stage one run's outputs; commit them together when the block succeeds.

    SIGTERM is turned into :class:`KeyboardInterrupt` while the block runs, so a killed run cleans
    up its staging folders like Ctrl-C does.

    Examples
    --------
    >>> with output_set("demo") as outs:  # doctest: +SKIP
    ...     (outs.dir("maps/demo") / "scorecard.csv").write_text("…")

    Parameters
    ----------
    name
        Name of the run.
    inputs
        Input files of the run.
    """
    outs = OutputSet(name, inputs)
    old = None
    with contextlib.suppress(ValueError):  # not the main thread: leave the handler alone
        old = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield outs
        _commit_or_roll_back(outs)
    finally:
        outs.cleanup()
        if old is not None:
            signal.signal(signal.SIGTERM, old)
