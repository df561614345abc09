"""Scheduled crawls, each in its own process, under a wall-clock limit, and always recorded.

Twisted's reactor runs once per process, so every scheduled crawl is a new process
(``multiprocessing`` spawn) running :func:`crawl_source`, the same ``run_crawl`` as
``newsarchive crawl``. :class:`CrawlExecutor` is the APScheduler executor that starts those
processes and watches them:

- past the time limit, or when the scheduler stops, the crawl gets SIGTERM: Scrapy stops
  gracefully, closes its WARC file and records the run ``interrupted``; still alive after
  the grace period, the process and its extraction workers (its own process group) get
  SIGKILL, and its WARC file stays ``*.warc.gz.open``, never a finished name, until the
  next crawl recovers it (``archive/warc/recovery.py``);
- when the process is gone, the run record is made to tell what happened, at once: the
  supervisor saw the process end, so it does not wait for the run's heartbeat to go stale.
  The run is found by this host's name and the process's pid, never by the pid alone, as
  hosts sharing a catalogue reuse each other's pids. A hung crawl (time limit) is
  ``failed``, one stopped with the scheduler or killed by a signal ``interrupted``, one
  that crashed ``failed``, with a ``message`` saying so; a killed crawl's figures are
  counted from what it archived and catalogued (it saves them only with each heartbeat),
  its WARC files listed as they are on disk; a process that died before opening its run
  still gets one, so every slot that ran shows in ``newsarchive runs``.

Each crawl logs one ``event=crawl-start`` and one ``event=crawl-end`` line (logfmt), for
systemd's journal; Scrapy's own log goes to ``DATA_DIR/logs/<source>-<time>.log``.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from time import monotonic
from typing import Any

from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.base import BaseExecutor
from apscheduler.job import Job

from archive.catalogue.database import utcnow
from archive.catalogue.store import Catalogue
from archive.config import SchedulerSettings, Settings, Source
from archive.query.runs import run_dict
from archive.warc.files import finished_name, open_files, resolve

logger = logging.getLogger("newsarchive.scheduler")

POLL_SECONDS = 0.5  # how often a supervisor looks at its crawl process; bounds stop latency
RUN_FIGURES = ("status", "pages", "not_modified", "not_articles", "bytes", "articles_new", "articles_updated",
               "articles_duplicate", "errors", "error_kinds", "warc_files", "message")  # crawl-end's fields
TIME_LIMIT = "time-limit"  # why the supervisor stopped a crawl
SHUTDOWN = "shutdown"


def log_event(event: str, level: int = logging.INFO, **fields: Any) -> None:
    """One logfmt line (``event=NAME key=value ...``) that a journal or a log shipper can index."""
    parts = [f"event={event}"]
    for key, value in fields.items():
        if isinstance(value, (list, tuple)):
            value = ",".join(map(str, value))
        elif isinstance(value, dict):
            value = ",".join(f"{k}:{v}" for k, v in value.items())
        text = "" if value is None else str(value)
        quoted = not text or any(c in text for c in ' ="')
        parts.append(f"{key}={json.dumps(text) if quoted else text}")
    logger.log(level, " ".join(parts))


def crawl_source(settings: Settings, source: Source, log_file: Path | None = None) -> None:
    """Crawl one source to completion in this process: what a scheduled crawl's process runs.

    The run record says how it went; the process exits 0 whenever the crawl itself ended.
    """
    # Scrapy and Twisted are imported in the crawl process only, not in the scheduler's.
    from crawler.run import run_crawl

    run_crawl(settings, [source], overrides={"LOG_FILE": str(log_file)} if log_file else None)


def scheduled_crawl(source: str) -> None:
    """The function a crawl job names, with the source's name: all that the job store keeps.

    :class:`CrawlExecutor` runs such a job as :func:`crawl_source` in a new process, with the
    service's settings and the source read by this name when its slot comes; nothing calls
    this function itself.
    """
    raise RuntimeError(f"the crawl of {source!r} runs through CrawlExecutor, in a process of its own")


def _process_main(func: Callable[..., None], kwargs: dict[str, Any]) -> None:
    """Entry of a crawl process: its own process group, so a kill takes its extraction workers too."""
    os.setpgrp()
    func(**kwargs)


class CrawlExecutor(BaseExecutor):
    """APScheduler executor: each crawl job runs as ``crawl_source`` in a new process, supervised.

    A job stores only :func:`scheduled_crawl` and the source's name (``kwargs={"source": NAME}``):
    the database holds no pickled ``Settings`` (a database URL may carry a password) nor
    ``Source`` (a renamed field would make the job unreadable). When a slot comes, the
    executor looks the name up in ``sources()``, the service's sources as last read from the
    file, and hands the process the service's ``settings``, that ``source`` and a
    ``log_file``; a name no longer there is logged (``event=crawl-error``) and the slot
    skipped.
    """

    def __init__(self, catalogue: Catalogue, options: SchedulerSettings, settings: Settings,
                 sources: Callable[[], Sequence[Source]]) -> None:
        super().__init__()
        self.catalogue = catalogue
        self.settings = settings
        self.sources = sources
        self.host = settings.host  # the name this machine's crawl processes record their runs under
        self.time_limit = options.crawl_time_limit
        self.stop_grace = options.stop_grace
        self.log_dir = settings.data_dir / "logs"
        self.warc_dir = settings.warc_dir
        self._supervisors = ThreadPoolExecutor(options.max_crawls, thread_name_prefix="crawl")
        self._stopping = threading.Event()
        self._spawn = multiprocessing.get_context("spawn")  # fork is unsafe in a threaded process

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        future = self._supervisors.submit(self._run_job, job, run_times)
        future.add_done_callback(partial(self._job_done, job.id))

    def shutdown(self, wait: bool = True) -> None:
        """Stop every running crawl (SIGTERM, SIGKILL after the grace); with ``wait``, until recorded."""
        self._stopping.set()
        self._supervisors.shutdown(wait)

    def _job_done(self, job_id: str, future: Future) -> None:
        error = future.exception()
        if error is not None:
            self._run_job_error(job_id, error, error.__traceback__)
        else:
            self._run_job_success(job_id, future.result())

    def _run_job(self, job: Job, run_times: list[datetime]) -> list[JobExecutionEvent]:
        """APScheduler's run_job for a crawl: a slot later than the misfire grace is skipped."""
        events = []
        for run_time in run_times:
            late = datetime.now(UTC) - run_time
            if job.misfire_grace_time is not None and late > timedelta(seconds=job.misfire_grace_time):
                log_event("crawl-missed", logging.WARNING, source=job.id, slot=run_time.isoformat(),
                          late_seconds=round(late.total_seconds()))
                events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id, job._jobstore_alias, run_time))
            elif not self._stopping.is_set():  # queued behind other crawls when the scheduler stopped
                run = self.crawl(crawl_source, job.kwargs["source"])
                if run is not None:
                    events.append(JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, job._jobstore_alias, run_time,
                                                    retval=run))
        return events

    def source(self, name: str) -> Source | None:
        """The source called ``name`` as the service has it now; None (logged) when it has none."""
        source = next((s for s in self.sources() if s.name == name), None)
        if source is None:
            log_event("crawl-error", logging.ERROR, source=name,
                      error=f"no source {name!r} in {self.settings.sources_file} (renamed or removed?): slot skipped")
        return source

    def crawl(self, func: Callable[..., None], name: str) -> dict[str, Any] | None:
        """Run ``func(settings, source, log_file)`` in a new process until it ends or is stopped; its run.

        None when the service has no source ``name`` any more (logged).
        """
        source = self.source(name)
        if source is None:
            return None
        started, clock = utcnow(), monotonic()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_file = self.log_dir / f"{source.name}-{started:%Y%m%d%H%M%S}.log"
        kwargs = {"settings": self.settings, "source": source, "log_file": log_file}
        process = self._spawn.Process(target=_process_main, args=(func, kwargs), name=f"crawl-{source.name}")
        process.start()
        log_event("crawl-start", source=source.name, pid=process.pid, time_limit=self.time_limit, log=log_file)
        stopped_for = self._supervise(process, clock + self.time_limit)
        run = self._record(source.name, process, started, stopped_for)
        log_event("crawl-end", logging.INFO if run["status"] == "ok" else logging.WARNING, source=source.name,
                  run=run["id"], **{key: run[key] for key in RUN_FIGURES},
                  seconds=round(monotonic() - clock, 1), exit=process.exitcode)
        return run

    def _supervise(self, process: multiprocessing.process.BaseProcess, deadline: float) -> str | None:
        """Wait for the crawl process to end, stopping it at the deadline or shutdown; why it was stopped."""
        stopped_for, terminated_at = None, 0.0
        while process.exitcode is None:
            process.join(POLL_SECONDS)
            now = monotonic()
            if process.exitcode is not None:
                break
            if stopped_for is None and (now >= deadline or self._stopping.is_set()):
                stopped_for = TIME_LIMIT if now >= deadline else SHUTDOWN
                terminated_at = now
                os.kill(process.pid, signal.SIGTERM)  # Scrapy: finish in-flight downloads, close the WARC file
            elif stopped_for is not None and now - terminated_at >= self.stop_grace:
                _kill_group(process)
        if process.exitcode != 0:
            _kill_group(process)  # extraction workers a dead crawl left behind
        return stopped_for

    def _record(self, source: str, process: multiprocessing.process.BaseProcess, started: datetime,
                stopped_for: str | None) -> dict[str, Any]:
        """Make the run record tell how the process ended; the record as `newsarchive runs` shows it."""
        run = self.catalogue.find_run(source, self.host, process.pid, started)
        status, message = self._verdict(stopped_for, process.exitcode)
        if run is None:  # died before opening its run: the slot still shows
            run_id = self.catalogue.start_run(source, host=self.host)
            self.catalogue.finish_run(run_id, status or "failed", started=started, pid=process.pid,
                                      message=message or "the crawl process recorded no run")
        elif run.status == "running":  # killed or crashed: figures as far as it got
            run_id = run.id
            self.catalogue.finish_run(run_id, status or "failed",
                                      message=message or "the crawl process ended without closing its run",
                                      warc_files=self._warc_files(source, run.warc_files, started),
                                      **self.catalogue.recount_run(run_id))
        else:  # the crawl closed its run itself: "interrupted" when that was our SIGTERM
            run_id = run.id
            if stopped_for is not None and run.status == "interrupted":
                self.catalogue.update_run(run_id, status=status, message=message)
        recorded = self.catalogue.get_run(run_id)
        assert recorded is not None
        return run_dict(recorded, source)

    def _verdict(self, stopped_for: str | None, exitcode: int | None) -> tuple[str | None, str | None]:
        """Status and message for a run from how its process ended; (None, None): as it recorded."""
        if stopped_for == TIME_LIMIT:
            return "failed", f"time limit ({self.time_limit:g} s) reached: stopped"
        if stopped_for == SHUTDOWN:
            return "interrupted", "stopped with the scheduler"
        if exitcode is not None and exitcode < 0:
            return "interrupted", f"crawl process killed by {signal.Signals(-exitcode).name}"
        if exitcode:
            return "failed", f"crawl process exited with status {exitcode}"
        return None, None

    def _warc_files(self, source: str, recorded: list[str], since: datetime) -> list[str]:
        """The run's WARC files as they are on disk: a killed crawl's last one is still ``.open``.

        The run record is saved every few seconds, so a file opened since is found by its name.
        """
        files = []
        for name in recorded or []:
            path = resolve(self.warc_dir, finished_name(name))
            files.append(path.name if path else name)
        cutoff = since.replace(tzinfo=UTC).timestamp()
        for path in open_files(self.warc_dir, source):  # this source's only: not news-fr's for news
            if path.name not in files and path.stat().st_mtime >= cutoff:
                files.append(path.name)
        return files


def _kill_group(process: multiprocessing.process.BaseProcess) -> None:
    """SIGKILL the crawl's process group (the crawl and its extraction workers)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:  # the group is gone, or the process died before making it
        if process.exitcode is None:
            process.kill()
