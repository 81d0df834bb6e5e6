"""The `run` loop on APScheduler 3.x: the only module that imports apscheduler.

Three jobs with fixed ids (`replace_existing`, so a restart never stacks copies): `mail` (handle
new mail, then wait in IDLE or poll), `sweep` (send whatever follow-ups are due) and `clock`
(response-clock warnings and housekeeping). One worker thread runs them one at a time: an
IMAP connection is not thread-safe, and the jobs share it.

Missed runs are never dropped silently: APScheduler's default misfire_grace_time of 1 s would
drop a run missed while the machine slept, so every job coalesces and has no grace limit, and
the sweep and clock jobs run once at start to catch up what fell due while we were down.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger(__name__)

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


@dataclass(frozen=True)
class Jobs:
    mail: Callable[[], None]
    sweep: Callable[[], None]
    clock: Callable[[], None]
    mail_every: float
    """Seconds between mail jobs; the job itself waits in IDLE, so this is only the gap."""
    sweep_every: float = 60.0
    clock_every: float = 300.0


def run_until_stopped(jobs: Jobs, stop: threading.Event, timezone_name: str = "UTC") -> None:
    """Run the jobs until `stop` is set, then let the job in hand finish and return."""
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults=JOB_DEFAULTS,
        timezone=timezone_name,
    )
    now = datetime.now(timezone.utc)
    scheduler.add_job(_guarded("mail", jobs.mail), "interval", seconds=jobs.mail_every, id="mail", replace_existing=True, next_run_time=now)
    scheduler.add_job(_guarded("sweep", jobs.sweep), "interval", seconds=jobs.sweep_every, id="sweep", replace_existing=True, next_run_time=now)
    scheduler.add_job(_guarded("clock", jobs.clock), "interval", seconds=jobs.clock_every, id="clock", replace_existing=True, next_run_time=now)
    scheduler.start()
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)


def _guarded(name: str, job: Callable[[], None]) -> Callable[[], None]:
    """A failing job is logged and retried at its next run; it never stops the daemon."""

    def run() -> None:
        try:
            job()
        except Exception as exc:  # noqa: BLE001 - the daemon must outlive any one failure
            log.error("%s job failed: %s", name, exc, exc_info=not _is_expected(exc))

    return run


def _is_expected(exc: Exception) -> bool:
    from daemon.errors import AftersaleError

    return isinstance(exc, AftersaleError)
