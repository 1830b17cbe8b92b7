"""The scheduler: starts each scheduled job through Scrapyd's ``schedule.json``.

Why APScheduler (3.x) and not generated systemd timers: the rules that matter
here have to be code anyway (ask ``listjobs.json`` before every start, say in
one line why a run did not start, retry a run Scrapyd missed), and in-process
they run the same on any host, under any service manager, in the tests.
APScheduler brings the cron triggers, ``coalesce`` (missed runs become one
run) and ``max_instances=1``; its job store is in memory, so the last run of
each job is kept in a small state file and a run missed while the scheduler
itself was down is made up once at start.

A run never starts while an earlier run of the same job is pending or running
on its node: Scrapyd job ids are ``<job name>.<UTC time>``, so the runner knows
its own jobs in ``listjobs.json``.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.date import DateTrigger

from soundscraping.server import scrapyd_api
from soundscraping.server.schedules import Schedule, ScheduledJob

logger = logging.getLogger("soundscraping.schedule")
DEFAULT_STATE = Path("data/schedule-state.json")
RETRY_SECONDS = 60.0  # a run that found Scrapyd down is tried again this soon (or at its next run, if sooner)


class Outcome(Enum):
    STARTED = "started"
    BUSY = "busy"      # an earlier run of the job is still pending or running
    FAILED = "failed"  # Scrapyd down or refusing: nothing started


def scrapyd_job_id(job: ScheduledJob, now: datetime) -> str:
    return f"{job.name}.{now.astimezone(UTC):%Y%m%dT%H%M%S.%f}"[:-3] + "Z"


class RunState:
    """When each job last ran (started, or found still running): ``{"name": "ISO time"}``."""

    def __init__(self, path: Path | None):
        self.path = path
        self._lock = threading.Lock()
        self._last: dict[str, str] = {}
        if path is not None and path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                self._last = {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
            except (OSError, ValueError) as exc:
                logger.warning("ignoring the unreadable state file %s (%s): no missed run is made up", path, exc)

    def last_run(self, name: str) -> datetime | None:
        value = self._last.get(name)
        try:
            return datetime.fromisoformat(value) if value else None
        except ValueError:
            return None

    def record(self, name: str, when: datetime) -> None:
        with self._lock:
            self._last[name] = when.astimezone(UTC).isoformat()
            if self.path is None:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(json.dumps(self._last, indent=1, sort_keys=True) + "\n", encoding="utf-8")
            os.replace(tmp, self.path)  # atomic: a kill never leaves half a file


def missed_run(job: ScheduledJob, last_run: datetime | None, now: datetime) -> datetime | None:
    """The first run due after ``last_run`` if it is already past (it was missed), else None."""
    if last_run is None:
        return None
    due = job.trigger.get_next_fire_time(last_run, last_run)
    return due if due is not None and due <= now else None


def next_run(job: ScheduledJob, now: datetime) -> str:
    due = job.trigger.get_next_fire_time(None, now)
    return f"{due:%Y-%m-%d %H:%M:%S %Z}" if due is not None else "never"


class Runner:
    def __init__(self, schedule: Schedule, state: RunState | None = None, retry_seconds: float = RETRY_SECONDS):
        self.schedule = schedule
        self.state = state or RunState(None)
        self.retry_seconds = retry_seconds
        self._scheduler: BlockingScheduler | None = None

    def fire(self, job: ScheduledJob) -> Outcome:
        """One run of ``job``: start it on its node unless a run of it is pending or running."""
        now = datetime.now(UTC)
        try:
            active = [j for j in scrapyd_api.active_jobs(job.node, job.project) if job.owns(str(j.get("id", "")))]
            if active:
                self.state.record(job.name, now)
                logger.info("%s: not started: its job %s is still %s on %s", job.name, active[0]["id"],
                            active[0]["state"], job.node.base)
                return Outcome.BUSY
            job_id = scrapyd_api.schedule(job.node, job.project, job.spider, scrapyd_job_id(job, now), job.args,
                                          job.settings)
        except scrapyd_api.ScrapydError as exc:
            logger.error("%s: not started: %s; %s", job.name, exc, self._retry(job, now))
            return Outcome.FAILED
        self.state.record(job.name, now)
        logger.info("%s: started %s job %s on %s", job.name, job.spider, job_id, job.node.base)
        return Outcome.STARTED

    def _retry(self, job: ScheduledJob, now: datetime) -> str:
        """Under ``serve``: the run is tried again at the next run or after retry_seconds, whichever is first."""
        if self._scheduler is None:
            return "nothing was started"
        regular = self._scheduler.get_job(job.name)
        next_run = regular.next_run_time if regular is not None else None
        retry_at = now + timedelta(seconds=self.retry_seconds)
        if next_run is not None and next_run <= retry_at:
            return f"retrying at the next run ({next_run.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC)"
        self._scheduler.add_job(self.fire, DateTrigger(retry_at), args=[job], id=f"{job.name}.retry",
                                name=f"{job.name} (retry)", replace_existing=True)
        return f"retrying at {retry_at:%Y-%m-%d %H:%M:%S} UTC"

    def serve(self) -> None:
        """Run every job on its cron schedule until SIGTERM or SIGINT."""
        scheduler = BlockingScheduler(timezone=self.schedule.timezone, job_defaults={
            # Runs missed while busy or suspended become one run, however late; one run of a job at a time.
            "coalesce": True, "max_instances": 1, "misfire_grace_time": None})
        self._scheduler = scheduler
        now = datetime.now(UTC)
        for job in self.schedule.jobs.values():
            options: dict[str, Any] = {}
            if (due := missed_run(job, self.state.last_run(job.name), now)) is not None:
                logger.info("%s: the run due at %s UTC was missed while the scheduler was down: running it now",
                            job.name, f"{due.astimezone(UTC):%Y-%m-%d %H:%M:%S}")
                options["next_run_time"] = now
            scheduler.add_job(self.fire, job.trigger, args=[job], id=job.name, name=job.name, **options)

        def stop(signum: int, _frame: Any) -> None:
            logger.info("stopping (%s)", signal.Signals(signum).name)
            scheduler.shutdown(wait=False)

        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, stop)
        logger.info("serving %d job(s) from %s: %s", len(self.schedule.jobs), self.schedule.path,
                    "; ".join(f"{j.name} next at {next_run(j, now)}" for j in self.schedule.jobs.values())
                    or "nothing to do")
        scheduler.start()
