"""A crawl frontier shared by several crawl workers through Redis (scrapy-redis).

``newsarchive --redis redis://HOST crawl NAME`` on several machines (or processes) makes
them one crawl of NAME: one request queue and one dupefilter in Redis, so no URL is
fetched twice across workers, while each worker writes its own WARC files and run record
into the shared (PostgreSQL) catalogue.

scrapy-redis keeps its keys until told otherwise; a news crawl must start afresh each
run (feeds and sections are fetched again), yet workers that join a running crawl must
share its keys. So the keys live as long as one crawl: workers register in a Redis set
with a heartbeat; the first live worker of a crawl clears leftovers of earlier ones, and
the last one to close deletes the keys.
"""

from __future__ import annotations

import os
import socket
import uuid

from scrapy import Spider
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler
from twisted.internet.task import LoopingCall

HEARTBEAT_INTERVAL = 10.0  # seconds between a worker's "still alive" signs
HEARTBEAT_TTL = 60  # seconds without a sign after which a worker counts as dead (crashed)
LOCK_TIMEOUT_MS = 10_000  # joining or leaving a crawl takes milliseconds; a dead holder frees it


class SharedFrontier(Scheduler):
    def open(self, spider: Spider) -> None:
        prefix = f"newsarchive:{spider.source.name}"
        self.keys = {
            "queue": f"{prefix}:requests",
            "dupefilter": f"{prefix}:dupefilter",
            "workers": f"{prefix}:workers",
            "lock": f"{prefix}:lock",
        }
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.queue_key = self.keys["queue"]
        self.df = RFPDupeFilter(self.server, key=self.keys["dupefilter"])
        with self.server.lock(self.keys["lock"], timeout=LOCK_TIMEOUT_MS / 1000):
            if not self._live_workers():
                self.server.delete(self.keys["queue"], self.keys["dupefilter"])  # an earlier crawl's
            self._beat()
        self.heartbeat = LoopingCall(self._beat)
        self.heartbeat.start(HEARTBEAT_INTERVAL, now=False)
        super().open(spider)

    def close(self, reason: str) -> None:
        if self.heartbeat.running:
            self.heartbeat.stop()
        with self.server.lock(self.keys["lock"], timeout=LOCK_TIMEOUT_MS / 1000):
            self.server.srem(self.keys["workers"], self.worker)
            self.server.delete(self._heartbeat_key(self.worker))
            if not self._live_workers():
                self.server.delete(self.keys["queue"], self.keys["dupefilter"], self.keys["workers"])

    def _heartbeat_key(self, worker: str) -> str:
        return f"{self.keys['workers']}:{worker}"

    def _beat(self) -> None:
        self.server.sadd(self.keys["workers"], self.worker)
        self.server.set(self._heartbeat_key(self.worker), 1, ex=HEARTBEAT_TTL)

    def _live_workers(self) -> list[str]:
        """Registered workers with a fresh heartbeat; the dead are unregistered on the way."""
        live = []
        for worker in self.server.smembers(self.keys["workers"]):
            name = worker.decode() if isinstance(worker, bytes) else worker
            if self.server.exists(self._heartbeat_key(name)):
                live.append(name)
            else:
                self.server.srem(self.keys["workers"], worker)
        return live


def frontier_settings(redis_url: str | None) -> dict[str, object]:
    """The Scrapy settings that put a crawl's frontier in Redis (none without a URL)."""
    if not redis_url:
        return {}
    return {
        "SCHEDULER": "crawler.frontier.SharedFrontier",
        "SCHEDULER_PERSIST": True,  # the keys' lifetime is SharedFrontier's business
        "DUPEFILTER_CLASS": "scrapy_redis.dupefilter.RFPDupeFilter",
        "REDIS_URL": redis_url,
    }
