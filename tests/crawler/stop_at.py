"""``python stop_at.py POINT NEWSARCHIVE-ARGS...``: the real ``newsarchive``, which stops itself at POINT once armed.

What the crash test runs instead of ``newsarchive``, so that its SIGKILL lands at a chosen
kind of moment rather than wherever a timer falls. Sent SIGUSR1, the process installs a
profile hook (``sys.setprofile``, from outside the product: no code of newsarchive knows
of it) and runs on until it reaches POINT, where it SIGSTOPs itself:

- ``warc-write``: inside warcio's writing of a response record, with part of the record's
  gzip member handed to the OS and the rest still in zlib or in the file object's buffer
  (the file on disk ends in a torn record; zlib hands out a record of some 50 kB or more
  in pieces, a smaller one in one write, which a kill cannot tear);
- ``capture-commit``: about to COMMIT the transaction that indexes a capture
  (``Catalogue.add_capture``);
- ``article-commit``: about to COMMIT the transaction that catalogues an article
  (``Catalogue.record_article``).

The test then reads the stopped process's stack with py-spy and SIGKILLs its process group.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
from types import FrameType
from typing import Any

POINTS = ("warc-write", "capture-commit", "article-commit")
COMMITTERS = {"capture-commit": ("add_capture", "archive/catalogue/captures.py"),
              "article-commit": ("record_article", "archive/catalogue/identity.py")}


def _called_from(frame: FrameType | None, function: str, file_suffix: str) -> bool:
    while frame is not None:
        if frame.f_code.co_name == function and frame.f_code.co_filename.endswith(file_suffix):
            return True
        frame = frame.f_back
    return False


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
              and _called_from(frame, *COMMITTERS[self.point])):
            self.stop()

    def stop(self) -> None:
        sys.setprofile(None)
        os.kill(os.getpid(), signal.SIGSTOP)


def main() -> None:
    point = sys.argv.pop(1)
    if point not in POINTS:
        raise SystemExit(f"stop_at.py: POINT must be one of {', '.join(POINTS)}, not {point!r}")
    signal.signal(signal.SIGUSR1, lambda *_: sys.setprofile(StopAt(point)))
    from cli.main import main as newsarchive

    newsarchive()


if __name__ == "__main__":  # not when multiprocessing's spawn imports this file in a worker
    main()
