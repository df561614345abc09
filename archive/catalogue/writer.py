"""The crawl's catalogue writes on one thread, many to a transaction (group commit).

A crawl writes a capture row for every response and an article (or a not-article) for
every article page. Done on the reactor, each is a transaction of its own: the reactor
waits on every commit (a WAL flush on PostgreSQL) and runs the ORM's work between its
downloads, while the extraction workers wait for it to hand them the next page. Here the
writes are queued to one thread, which takes whatever has queued up while it committed
the last batch (at most ``BATCH_MAX``) and writes it in one transaction: one commit per
batch under load, and no wait at all when the crawl is idle (no timer, no linger).

Order is kept: a batch inserts its captures first (one ``INSERT … RETURNING`` of many
rows), then runs the other writes in the order they came, so an article always finds the
id of its capture, queued before it (:class:`PendingCapture`). A batch that fails is
rolled back whole and its writes run again one by one, each in a transaction of its own
and once more if it lost a race with another worker (a unique key, a deadlock), so one
bad write fails alone. Captures are not waited for; a capture that cannot be written is
reported to ``on_failure`` (the crawl stops: what cannot be indexed is not worth
fetching). Other writes return a future, which the crawl's pipeline awaits.

A crash loses what was queued and not yet committed, a fraction of a second of it: the
WARC records are on disk, and recovery (``archive/warc/recovery.py``) indexes records
without a capture row and catalogues the article pages among them, as after any crash.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from archive.catalogue.captures import add_captures, capture_row
from archive.catalogue.identity import lost_a_race
from archive.catalogue.store import Catalogue
from archive.warc.records import CaptureInfo

logger = logging.getLogger(__name__)

T = TypeVar("T")
# Writes per transaction at most: a batch holds the catalogue's write lock (SQLite) and its
# rows' locks (PostgreSQL) until it commits; 200 is a few hundred milliseconds of a busy
# crawl, and past some tens of writes a commit's share of the cost is small anyway.
BATCH_MAX = 200


@dataclass
class PendingCapture:
    """A capture row queued for the catalogue; ``id`` is set once the writer has inserted it."""

    row: dict[str, Any]
    id: int | None = None


@dataclass
class _Write:
    run: Callable[[Session], Any]
    future: Future[Any]


_STOP = object()


class CatalogueWriter:
    """One thread writing a catalogue in batches: ``add_capture`` and ``submit`` from any one thread."""

    def __init__(self, catalogue: Catalogue, *, on_failure: Callable[[BaseException], None] | None = None,
                 batch_max: int = BATCH_MAX) -> None:
        self.catalogue = catalogue
        self.on_failure = on_failure or (lambda exc: logger.error("capture not catalogued: %s", exc))
        self.batch_max = batch_max
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="catalogue-writer", daemon=True)
        self._thread.start()

    @property
    def location(self) -> str:
        """Where the catalogue is, for messages."""
        return self.catalogue.location

    def add_capture(self, run_id: int | None, info: CaptureInfo, *, etag: str | None = None,
                    last_modified: str | None = None) -> PendingCapture:
        """Queue the capture row of an archived exchange; its ``id`` is known once written."""
        capture = PendingCapture(capture_row(run_id, info, etag=etag, last_modified=last_modified))
        self._queue.put(capture)
        return capture

    def submit(self, write: Callable[[Session], T]) -> Future[T]:
        """Queue ``write(session)``, run inside the batch's transaction; its result once committed."""
        future: Future[T] = Future()
        self._queue.put(_Write(write, future))
        return future

    def close(self) -> None:
        """Write everything queued, then stop the thread."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.batch_max:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = _STOP in batch
            batch = [entry for entry in batch if entry is not _STOP]
            if batch:
                try:
                    self._write_batch(batch)
                except Exception:  # noqa: BLE001 - rolled back: each write again, alone
                    self._write_each(batch)
            if stop:
                return

    def _write_batch(self, batch: list[Any]) -> None:
        """The whole batch in one transaction; futures are answered only once it has committed."""
        captures = [entry for entry in batch if isinstance(entry, PendingCapture)]
        writes = [entry for entry in batch if isinstance(entry, _Write)]
        try:
            with self.catalogue.session() as session:
                if captures:
                    for capture, capture_id in zip(captures, add_captures(session, [c.row for c in captures]),
                                                   strict=True):
                        capture.id = capture_id
                results = [write.run(session) for write in writes]
        except Exception:
            for capture in captures:
                capture.id = None  # rolled back
            raise
        for write, result in zip(writes, results, strict=True):
            write.future.set_result(result)

    def _write_each(self, batch: list[Any]) -> None:
        for entry in batch:
            try:
                if isinstance(entry, PendingCapture):
                    entry.id = self._alone(lambda session: add_captures(session, [entry.row])[0])
                else:
                    entry.future.set_result(self._alone(entry.run))
            except Exception as exc:  # noqa: BLE001 - reported where the crawl handles it
                if isinstance(entry, PendingCapture):
                    self.on_failure(exc)
                else:
                    entry.future.set_exception(exc)

    def _alone(self, write: Callable[[Session], T]) -> T:
        """``write`` in a transaction of its own, once more if a concurrent worker made it fail."""
        try:
            with self.catalogue.session() as session:
                return write(session)
        except DBAPIError as exc:
            if not lost_a_race(exc):
                raise
            with self.catalogue.session() as session:
                return write(session)
