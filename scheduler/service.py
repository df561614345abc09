"""The scheduler service of `newsarchive schedule run`, and the timetable `schedule list` prints.

An APScheduler ``BlockingScheduler`` with one cron job per source that has a ``schedule``.
The jobs live in the catalogue database (APScheduler's SQLAlchemy job store, table
``apscheduler_jobs``), so a restart keeps each source's due time and a slot missed while
the service was down runs once (coalesced) if it is within the misfire grace. A source is
never crawled twice at once (``max_instances=1``): a slot that comes while its crawl runs
is skipped and logged. Crawls run in their own processes (``scheduler.crawl_job``).

Every ``watch_interval`` seconds an internal job looks at the sources file (its mtime,
size and inode) and at the signals received: a changed file, or SIGHUP, re-reads it
(added, removed and re-timed sources take effect at once; a file that cannot be used is
logged with the file, source and field at fault, and the schedule stays as it was);
SIGTERM or SIGINT stop the service: no new crawls, running ones are stopped (SIGTERM,
then SIGKILL after the grace) and recorded ``interrupted``. Signal handlers only set a
flag, so nothing runs inside a handler while the scheduler holds its locks.
"""

from __future__ import annotations

import logging
import os
import pickle
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from apscheduler.events import (
    EVENT_JOB_MAX_INSTANCES,
    EVENT_SCHEDULER_STARTED,
    JobSubmissionEvent,
    SchedulerEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import inspect

from archive.catalogue.models import JOBS_TABLE
from archive.catalogue.store import Catalogue
from archive.config import (
    ConfigError,
    SchedulerSettings,
    Settings,
    Source,
    cron_trigger,
    load_sources,
)
from archive.query.runs import list_runs
from scheduler.crawl_job import CrawlExecutor, log_event, scheduled_crawl

CRAWLS = "default"  # job store and executor of the crawl jobs
INTERNAL = "internal"  # job store and executor of the watch job (in memory, in a thread)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def configure_logging(level: int = logging.INFO) -> None:
    """Log lines on stderr, where systemd's journal takes them; APScheduler's own only when errors.

    The service logs its own structured line for what APScheduler would warn about
    (skipped and missed slots).
    """
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.ERROR)


def crawl_job_store(catalogue: Catalogue) -> SQLAlchemyJobStore:
    """APScheduler's job store in the catalogue database."""
    return SQLAlchemyJobStore(engine=catalogue.engine, tablename=JOBS_TABLE)


class SchedulerService:
    """Crawls each source on its schedule, until stopped by SIGTERM or SIGINT."""

    def __init__(self, settings: Settings, catalogue: Catalogue, options: SchedulerSettings) -> None:
        self.settings = settings
        self.catalogue = catalogue
        self.options = options
        self.crawls = CrawlExecutor(catalogue, options, settings, lambda: self.sources)
        self.scheduler = BlockingScheduler(
            jobstores={CRAWLS: crawl_job_store(catalogue), INTERNAL: MemoryJobStore()},
            executors={CRAWLS: self.crawls, INTERNAL: ThreadPoolExecutor(1)},
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": options.misfire_grace},
        )
        self.scheduler.add_listener(self._on_started, EVENT_SCHEDULER_STARTED)
        self.scheduler.add_listener(self._on_skipped, EVENT_JOB_MAX_INSTANCES)
        self.sources: list[Source] = []
        self._file_stamp: tuple[int, int, int] | None = None
        self._stop_signal: int | None = None  # set by the signal handler, acted on by _watch
        self._reload_requested = False

    @property
    def sources_file(self) -> Path:
        return self.settings.sources_file

    def run(self) -> None:
        """Schedule and crawl until SIGTERM or SIGINT; SIGHUP re-reads the sources file.

        Raises ConfigError when the sources file cannot be used at start: a service that
        would crawl nothing it was asked to should not start.
        """
        self._file_stamp = _file_stamp(self.sources_file)
        self.sources = load_sources(self.sources_file)
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (*STOP_SIGNALS, signal.SIGHUP)}
        self.scheduler.add_job(self._watch, IntervalTrigger(seconds=self.options.watch_interval), id="watch",
                               jobstore=INTERNAL, executor=INTERNAL)
        log_event("scheduler-start", pid=os.getpid(), sources_file=self.sources_file, data_dir=self.settings.data_dir,
                  time_limit=self.options.crawl_time_limit, misfire_grace=self.options.misfire_grace,
                  max_crawls=self.options.max_crawls)
        try:
            self.scheduler.start()  # returns once _watch has shut it down
        finally:
            self.crawls.shutdown(wait=True)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        log_event("scheduler-stop", pid=os.getpid())

    def reload(self) -> None:
        """Re-read the sources file and bring the jobs in line with it; a bad file changes nothing."""
        try:
            sources = load_sources(self.sources_file)
        except ConfigError as exc:
            log_event("sources-error", logging.ERROR, file=self.sources_file, error=str(exc),
                      kept=",".join(job.id for job in self.scheduler.get_jobs(jobstore=CRAWLS)))
            return
        self.sources = sources
        changed = self._sync(sources)
        log_event("sources-reloaded", file=self.sources_file, sources=len(sources), changed=changed)

    # --- inside the scheduler -------------------------------------------------------------
    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            self._reload_requested = True
        else:
            self._stop_signal = signum

    def _on_started(self, event: SchedulerEvent) -> None:
        """Before the first slot is looked at: the stored jobs brought in line with the file."""
        self._sync(self.sources)

    def _on_skipped(self, event: JobSubmissionEvent) -> None:
        if event.jobstore == CRAWLS:
            log_event("crawl-skipped", logging.WARNING, source=event.job_id,
                      slot=event.scheduled_run_times[-1].isoformat(), reason="its previous crawl is still running")

    def _watch(self) -> None:
        """The internal job: act on a stop signal, a SIGHUP or a changed sources file."""
        if self._stop_signal is not None:
            log_event("scheduler-stopping", signal=signal.Signals(self._stop_signal).name)
            self.scheduler.shutdown(wait=False)  # run() waits for the crawls once the loop has ended
            return
        stamp = _file_stamp(self.sources_file)
        if self._reload_requested or stamp != self._file_stamp:
            self._reload_requested = False
            self._file_stamp = stamp
            self.reload()

    def _sync(self, sources: list[Source]) -> list[str]:
        """Add, remove, re-time and update the crawl jobs to match ``sources``; the names changed.

        A job whose cron is unchanged keeps its next run time: a restart does not lose a due slot.
        A job stored by a version that pickled ``Settings`` and ``Source`` into it (calling
        ``crawl_source``) is rewritten to :func:`scheduled_crawl` and the name here, at start,
        keeping its next run time; one that can no longer be
        unpickled is dropped by APScheduler and made again from the file.
        """
        wanted = {source.name: source for source in sources if source.schedule}
        jobs = {job.id: job for job in self.scheduler.get_jobs(jobstore=CRAWLS)}
        changed = []
        for name in sorted(jobs.keys() - wanted.keys()):
            self.scheduler.remove_job(name, jobstore=CRAWLS)
            log_event("source-unscheduled", source=name)
            changed.append(name)
        for name, source in wanted.items():
            assert source.schedule is not None
            kwargs = {"source": name}  # the name only: see CrawlExecutor
            trigger = cron_trigger(source.schedule)
            job = jobs.get(name)
            if job is None:
                job = self.scheduler.add_job(scheduled_crawl, trigger, id=name, name=f"crawl {name}",
                                             kwargs=kwargs, jobstore=CRAWLS, executor=CRAWLS)
            elif (job.func is not scheduled_crawl or job.kwargs != kwargs
                  or job.misfire_grace_time != self.options.misfire_grace or not same_cron(job, source.schedule)):
                retimed = not same_cron(job, source.schedule)
                job.modify(func=scheduled_crawl, args=(), kwargs=kwargs, misfire_grace_time=self.options.misfire_grace)
                if retimed:
                    job.reschedule(trigger)
            else:
                continue
            log_event("source-scheduled", source=name, schedule=source.schedule,
                      next_run=_utc_iso(self.scheduler.get_job(name, jobstore=CRAWLS).next_run_time))
            changed.append(name)
        return changed


def schedule_table(catalogue: Catalogue, sources: list[Source], now: datetime | None = None) -> list[dict[str, Any]]:
    """Each source's cron, next crawl and last run: what `newsarchive schedule list` prints.

    The next crawl is the one the scheduler keeps in the database when it has the source
    with this cron (``scheduled``), else the cron's next time after ``now``.
    """
    now = now or datetime.now(UTC)
    store = crawl_job_store(catalogue) if inspect(catalogue.engine).has_table(JOBS_TABLE) else None
    rows = []
    for source in sources:
        job = _stored_job(store, source.name) if store else None
        scheduled = job is not None and source.schedule is not None and same_cron(job, source.schedule)
        if scheduled:
            next_run = job.next_run_time
        else:
            next_run = cron_trigger(source.schedule).get_next_fire_time(None, now) if source.schedule else None
        runs = list_runs(catalogue, source.name, limit=1)
        last = runs[0] if runs else {}
        rows.append({
            "source": source.name,
            "schedule": source.schedule,
            "next_run": _utc_iso(next_run),
            "scheduled": scheduled,
            "last_run": last.get("started"),
            "last_status": last.get("status"),
            "last_pages": last.get("pages"),
            "last_articles_new": last.get("articles_new"),
            "last_articles_updated": last.get("articles_updated"),
            "last_errors": last.get("errors"),
            "last_message": last.get("message"),
        })
    return rows


def same_cron(job: Job, schedule: str) -> bool:
    """Whether a stored job fires on ``schedule`` (cron triggers print their non-default fields)."""
    return str(job.trigger) == str(cron_trigger(schedule))


def _stored_job(store: SQLAlchemyJobStore, name: str) -> Job | None:
    """The scheduler's job for a source, or None (also when it was stored by an incompatible version)."""
    try:
        return store.lookup_job(name)
    except (LookupError, ImportError, AttributeError, pickle.UnpicklingError):
        return None


def _file_stamp(path: Path) -> tuple[int, int, int] | None:
    """What tells a changed file: mtime, size and inode (editors often replace the file)."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size, stat.st_ino


def _utc_iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None
