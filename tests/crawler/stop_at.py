"""``python stop_at.py POINT NEWSARCHIVE-ARGS...``: the real ``newsarchive``, which stops itself at POINT once armed.

What the crash test runs instead of ``newsarchive``, so that its SIGKILL lands at a chosen
kind of moment rather than wherever a timer falls. Sent SIGUSR1, the process installs a
profile hook (``sys.setprofile``, from outside the product: no code of newsarchive knows
of it) in the thread where POINT lies (the main thread writes WARC records, the catalogue
writer's thread commits), and runs on until that thread reaches POINT, where it SIGSTOPs
itself:

- ``warc-write``: inside warcio's writing of a response record, with part of the record's
  gzip member handed to the OS and the rest still in zlib or in the file object's buffer
  (the file on disk ends in a torn record; zlib hands out a record of some 50 kB or more
  in pieces, a smaller one in one write, which a kill cannot tear);
- ``capture-commit``: about to COMMIT a transaction of the crawl's catalogue writer that
  indexes a capture (a batch of ``archive/catalogue/writer.py`` holding one);
- ``article-commit``: about to COMMIT one that catalogues an article (a batch holding the
  pipeline's ``record``).

The test then reads the stopped process's stack with py-spy and SIGKILLs its process group.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import threading
from types import FrameType
from typing import Any

POINTS = ("warc-write", "capture-commit", "article-commit")
WRITER = "archive/catalogue/writer.py"


def _batch(frame: FrameType | None) -> list[Any] | None:
    """The batch the catalogue writer is committing, if ``frame`` is within its commit."""
    while frame is not None:
        if frame.f_code.co_name == "_write_batch" and frame.f_code.co_filename.endswith(WRITER):
            return frame.f_locals.get("batch")
        frame = frame.f_back
    return None


def _commits(point: str, batch: list[Any]) -> bool:
    """Whether a batch is one the point stops at: one that indexes a capture, or catalogues an article."""
    if point == "capture-commit":
        return any(type(entry).__name__ == "PendingCapture" for entry in batch)
    return any(getattr(getattr(entry, "run", None), "__name__", "") == "record" for entry in batch)


class StopAt:
    """The profile hook: stops the process at its point."""

    def __init__(self, point: str) -> None:
        self.point = point
        self.record: tuple[Any, int] | None = None  # (file, offset) of the response record being written
        self.flushing = False  # warcio has flushed its compressor: the record's last bytes are out of zlib

    def __call__(self, frame: FrameType, event: str, arg: object) -> None:
        code = frame.f_code
        if self.point == "warc-write":
            if code.co_name == "_write_warc_record" and code.co_filename.endswith("warcio/warcwriter.py"):
                if event == "call":
                    out = frame.f_locals["out"]  # the record's gzip member (archive/warc/writer.py), over the file
                    out = getattr(out, "out", out)
                    self.record = (out, out.tell()) if frame.f_locals["record"].rec_type == "response" else None
                    self.flushing = False
                elif event == "return":
                    self.record = None  # written whole
            elif self.record is not None:
                if event == "call" and code.co_name == "flush" and code.co_filename.endswith("archive/warc/writer.py"):
                    self.flushing = True
                out, start = self.record
                on_disk = os.fstat(out.fileno()).st_size
                # Torn on disk: some of the record is there, and zlib or the file's buffer holds the rest.
                if start < on_disk and (not self.flushing or on_disk < out.tell()):
                    self.stop()
        elif (event == "c_call" and getattr(arg, "__name__", "") == "commit"
              and isinstance(getattr(arg, "__self__", None), sqlite3.Connection)
              and (batch := _batch(frame)) is not None and _commits(self.point, batch)):
            self.stop()

    def stop(self) -> None:
        """Stop the process here: sent to this thread, so that it stops in this very frame."""
        sys.setprofile(None)
        signal.pthread_kill(threading.get_ident(), signal.SIGSTOP)


def main() -> None:
    point = sys.argv.pop(1)
    if point not in POINTS:
        raise SystemExit(f"stop_at.py: POINT must be one of {', '.join(POINTS)}, not {point!r}")
    hook = StopAt(point)
    armed = threading.Event()

    def gate(frame: FrameType, event: str, arg: object) -> None:
        """The profile of every other thread (the catalogue writer's): the hook, once armed."""
        if armed.is_set():
            sys.setprofile(hook)

    if point != "warc-write":
        threading.setprofile(gate)  # threads start with it; the writer starts with the crawl

    def arm(*_: object) -> None:
        armed.set()
        if point == "warc-write":
            sys.setprofile(hook)

    signal.signal(signal.SIGUSR1, arm)
    from cli.main import main as newsarchive

    newsarchive()


if __name__ == "__main__":  # not when multiprocessing's spawn imports this file in a worker
    main()
