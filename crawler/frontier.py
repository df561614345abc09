"""A crawl frontier shared by several crawl workers through Redis (scrapy-redis).

``newsarchive --redis redis://HOST crawl NAME`` on several machines (or processes) makes
them one crawl of NAME: one request queue and one dupefilter in Redis, so no URL is
fetched twice across workers, while each worker writes its own WARC files and run record
into the shared (PostgreSQL) catalogue.

scrapy-redis keeps its keys until told otherwise; a news crawl must start afresh each
run (feeds and sections are fetched again), yet workers that join a running crawl must
share its keys. So the keys live as long as one crawl: workers register in a Redis set
with a heartbeat (the crawl run's interval and timeout, ``NEWSARCHIVE_HEARTBEAT_*``: a
worker is dead to the frontier when its run is dead to the catalogue); the first live
worker of a crawl clears leftovers of earlier ones, and the last one to close deletes the
keys.

scrapy-redis *pops* a request from the shared queue (ZRANGE + ZREMRANGEBYRANK in one
MULTI) into the worker's memory, without a lease or an acknowledgement; the fingerprints
stay in the shared dupefilter. So what a killed worker had popped and not yet archived and
catalogued is lost to the other workers of that crawl (none of them can enqueue it again):
the next crawl fetches it, as an article not yet in the catalogue, once the dead worker's
heartbeat has expired and the frontier is cleared. Scrapy's engine would take up to
``CONCURRENT_REQUESTS`` (32) requests at once into its downloader queues, where they wait
for the host's few slots: a worker holds at most the per-host concurrency instead, which
leaves the rest of the queue to the other workers and bounds what a crash takes away.
"""

from __future__ import annotations

import os
import socket
import uuid

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler
from twisted.internet.task import LoopingCall

from crawler.context import newsarchive_settings

LOCK_TIMEOUT_MS = 10_000  # joining or leaving a crawl takes milliseconds; a dead holder frees it


class SharedFrontier(Scheduler):
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedFrontier:
        frontier = super().from_crawler(crawler)
        frontier.crawler = crawler
        return frontier

    def next_request(self) -> Request | None:
        """The next request of the shared queue, unless this worker holds its share already."""
        if len(self.crawler.engine.downloader.active) >= self.hold:
            return None  # asked again as each download ends
        return super().next_request()

    def open(self, spider: Spider) -> None:
        prefix = f"newsarchive:{spider.source.name}"
        self.keys = {
            "queue": f"{prefix}:requests",
            "dupefilter": f"{prefix}:dupefilter",
            "workers": f"{prefix}:workers",
            "lock": f"{prefix}:lock",
        }
        self.hold = self.crawler.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN")  # the source's concurrency
        settings = newsarchive_settings(spider.crawler)
        self.heartbeat_ttl_ms = int(settings.heartbeat_timeout * 1000)
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.queue_key = self.keys["queue"]
        self.df = RFPDupeFilter(self.server, key=self.keys["dupefilter"])
        with self.server.lock(self.keys["lock"], timeout=LOCK_TIMEOUT_MS / 1000):
            if not self._live_workers():
                self.server.delete(self.keys["queue"], self.keys["dupefilter"])  # an earlier crawl's
            self._beat()
        self.heartbeat = LoopingCall(self._beat)
        self.heartbeat.start(settings.heartbeat_interval, now=False)
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
        self.server.set(self._heartbeat_key(self.worker), 1, px=self.heartbeat_ttl_ms)

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
