"""WARC file names and states: which file holds a capture, and whether a live writer still owns it.

A file newsarchive writes is named ``<prefix>-<YYYYMMDDHHMMSS>-<serial:05d>.warc.gz`` (the
prefix is the source's name, the time is UTC when the writer opened the file, the serial
counts the writer's files) and is in one of three states, told by its name and its lock:

- ``OPEN``: ``<name>.open``, a writer appends to it and holds an exclusive ``flock`` on it;
- ``UNFINISHED``: ``<name>.open`` that no live writer holds: its writer crashed or was
  killed. Every record in it is whole but perhaps the last; :mod:`archive.warc.recovery` cuts
  it after its last whole record and gives it its finished name (a recovered file is a
  finished file: the name capture rows store stays right);
- ``FINISHED``: ``<name>``, whole and durable: closed by its writer, or recovered.

Ownership is the kernel's: the writer takes ``flock(LOCK_EX)`` on the file before writing
into it and keeps it until the file has its finished name. The kernel drops the lock when
the process ends, however it ends (SIGKILL and the OOM killer included), so there is no
pid file to go stale and no pid that another process may reuse. A non-blocking ``flock``
that succeeds means nobody writes the file. Limits: locks are seen by processes of one
host (or of hosts sharing an NFSv4 mount, which emulates them); a writer that forked a
child after opening a file would share the lock with it (crawls spawn their extraction
workers, which inherit no descriptor).

Capture rows always name the finished file, whatever its state, so :func:`resolve` finds
a capture's file while a crawl still writes it. Every component that looks for WARC files
(replay, verify, index, export, conditional GET, the scheduler, recovery) asks this module.
"""

from __future__ import annotations

import contextlib
import enum
import fcntl
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

WARC_SUFFIX = ".warc.gz"
OPEN_SUFFIX = ".open"  # appended while a file is written
FOREIGN_SUFFIXES = (".warc.gz", ".warc")  # finished files, ours or another tool's (read, never written)
STAMP_FORMAT = "%Y%m%d%H%M%S"

_NAME = re.compile(r"^(?P<prefix>.+)-(?P<stamp>\d{14})-(?P<serial>\d{5,})\.warc\.gz(?P<open>\.open)?$")


class WarcState(enum.Enum):
    OPEN = "open"  # being written by a live writer
    UNFINISHED = "unfinished"  # ``.open``, no live writer: recover it
    FINISHED = "finished"


@dataclass(frozen=True)
class WarcName:
    """The parts of a newsarchive WARC file name."""

    prefix: str
    stamp: str  # YYYYMMDDHHMMSS, UTC
    serial: int

    @classmethod
    def make(cls, prefix: str, when: datetime, serial: int) -> WarcName:
        """The name of a writer's ``serial``-th file opened at ``when``."""
        if not prefix or "/" in prefix or os.sep in prefix:
            raise ValueError(f"WARC prefix {prefix!r} must be a non-empty file name part without '/'")
        return cls(prefix, when.astimezone(UTC).strftime(STAMP_FORMAT), serial)

    @classmethod
    def parse(cls, name: str) -> WarcName | None:
        """The parts of a finished or open file's basename; None for any other name."""
        match = _NAME.match(name)
        if match is None:
            return None
        return cls(match["prefix"], match["stamp"], int(match["serial"]))

    @property
    def finished(self) -> str:
        """``<prefix>-<stamp>-<serial>.warc.gz``: the name capture rows store."""
        return f"{self.prefix}-{self.stamp}-{self.serial:05d}{WARC_SUFFIX}"

    @property
    def open(self) -> str:
        """The name while the file is written."""
        return self.finished + OPEN_SUFFIX

    @property
    def opened(self) -> datetime:
        """When the writer opened the file (UTC, to the second)."""
        return datetime.strptime(self.stamp, STAMP_FORMAT).replace(tzinfo=UTC)


def finished_name(name: str) -> str:
    """The finished name of a file, whichever state its name says."""
    return name.removesuffix(OPEN_SUFFIX)


def resolve(warc_dir: Path, name: str) -> Path | None:
    """The file a capture row names (its finished name), finished or still open; None when absent."""
    if Path(name).name != name or name.endswith(OPEN_SUFFIX):
        raise ValueError(f"{name!r} is not a finished WARC file name: capture rows name files of the WARC "
                         "directory by their finished name")
    for candidate in (warc_dir / name, warc_dir / (name + OPEN_SUFFIX)):
        if candidate.is_file():
            return candidate
    return None


def finished_files(warc_dir: Path) -> list[Path]:
    """Every finished WARC file of the directory (another tool's ``*.warc`` and ``*.warc.gz`` too), by name."""
    if not warc_dir.is_dir():
        return []
    return sorted(p for p in warc_dir.iterdir() if p.name.endswith(FOREIGN_SUFFIXES) and p.is_file())


def open_files(warc_dir: Path, prefix: str | None = None) -> list[Path]:
    """The ``.open`` files of the directory, of one prefix exactly when given (``news`` is not ``news-fr``)."""
    if not warc_dir.is_dir():
        return []
    found = []
    for path in warc_dir.iterdir():
        parsed = WarcName.parse(path.name)
        if parsed and path.name == parsed.open and (prefix is None or parsed.prefix == prefix):
            found.append(path)
    return sorted(found)


def state(path: Path) -> WarcState:
    """The state of a WARC file, by its name and, for an ``.open`` file, its lock."""
    if not path.name.endswith(OPEN_SUFFIX):
        return WarcState.FINISHED
    return WarcState.OPEN if is_owned(path) else WarcState.UNFINISHED


def is_owned(path: Path) -> bool:
    """True while a live writer holds the ``.open`` file.

    Asked with a shared lock, which two readers can hold at once: looking does not keep
    another process from looking.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return False  # finished meanwhile
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


class Ownership:
    """An exclusive ``flock`` on a WARC file, on a descriptor of its own.

    Its own descriptor, not the writer's file object: a writer that cuts its file back after
    a failed write closes its file object first, and must still own the file while it
    truncates and renames it.
    """

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd

    @classmethod
    def take(cls, path: Path, *, wait: bool) -> Ownership | None:
        """Own ``path``; None when another process owns it (``wait=False``) or it is no longer there.

        A writer creates its file, then takes it with ``wait=True``: the only process that
        can hold it before is a recovery that found it empty and removed it, so after the
        wait the writer checks the name still leads to the file it created.
        """
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            if os.stat(path).st_ino != os.fstat(fd).st_ino:
                raise FileNotFoundError(path)  # renamed or removed while we waited
        except (BlockingIOError, FileNotFoundError):
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        return cls(fd)

    def release(self) -> None:
        """Let go of the file (closing the descriptor drops the lock). Safe to call twice."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)


def finish(open_path: Path) -> Path:
    """Give an ``.open`` file its finished name, durably (the directory is fsynced); the new path.

    Call it while owning the file, so no recovery takes a file its writer is finishing.
    """
    finished = open_path.with_name(finished_name(open_path.name))
    open_path.rename(finished)
    fsync_directory(open_path.parent)
    return finished


def fsync_directory(directory: Path) -> None:
    """Make renames and removals in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with contextlib.suppress(OSError):  # some file systems refuse fsync on a directory
            os.fsync(fd)
    finally:
        os.close(fd)
