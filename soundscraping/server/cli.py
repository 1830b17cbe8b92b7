"""``soundscraping schedule list|run-now|serve`` and ``soundscraping scrapyd``."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from soundscraping.server.runner import DEFAULT_STATE, RETRY_SECONDS, Outcome, Runner, RunState, next_run
from soundscraping.server.schedules import DEFAULT_FILE, ScheduleError, load


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def add_schedule_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="action")
    for name, help_text in (("list", "the scheduled jobs and when each runs next"),
                            ("run-now", "start one job now (unless a run of it is still pending or running)"),
                            ("serve", "start every job on its cron schedule, until stopped (a service)")):
        sub = actions.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--file", type=Path, default=DEFAULT_FILE,
                         help=f"the schedule file (default: {DEFAULT_FILE})")
        if name == "run-now":
            sub.add_argument("job", help="the job's name in the schedule file")
        if name in ("list", "serve"):
            sub.add_argument("--state", type=Path, default=DEFAULT_STATE,
                             help=f"when each job last ran: a run missed while the scheduler was down is made up "
                                  f"once at start (default: {DEFAULT_STATE})")
        if name == "serve":
            sub.add_argument("--retry-seconds", type=positive_seconds, default=RETRY_SECONDS,
                             help=f"a run that found Scrapyd down is retried after this long, or at its next run "
                                  f"if sooner (default: {RETRY_SECONDS:.0f})")


def add_scrapyd_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--check", action="store_true",
                        help="only check the configuration and say where Scrapyd would listen")
    parser.add_argument("twistd_args", nargs=argparse.REMAINDER,
                        help="passed to scrapyd (after --), e.g. -- --logfile /var/log/scrapyd/scrapyd.log")


def _log_to_stderr() -> None:
    """One line per event, with its UTC time (journald and the tests read these lines)."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # "Running job ..." lines: ours say more


def run_schedule_cli(args: argparse.Namespace) -> int:
    try:
        schedule = load(args.file)
    except ScheduleError as exc:
        print(f"soundscraping schedule: error: {exc}", file=sys.stderr)
        return 2
    if args.action == "list":
        state = RunState(args.state)
        now = datetime.now(UTC)
        print(f"{len(schedule.jobs)} job(s) in {schedule.path} (times in {schedule.timezone}):")
        for job in schedule.jobs.values():
            last = state.last_run(job.name)
            arguments = " ".join(f"-a {k}={v}" for k, v in job.args.items())
            print(f"{job.name}: {job.spider} {arguments}".rstrip() +
                  f" | cron {job.cron!r} | next {next_run(job, now)} | last "
                  f"{f'{last:%Y-%m-%d %H:%M:%S %Z}' if last else 'never'} | {job.project} on {job.node.name} "
                  f"({job.node.base})")
        return 0
    _log_to_stderr()
    if args.action == "run-now":
        try:
            job = schedule.job(args.job)
        except ScheduleError as exc:
            print(f"soundscraping schedule: error: {exc}", file=sys.stderr)
            return 2
        return 0 if Runner(schedule).fire(job) is Outcome.STARTED else 1
    Runner(schedule, RunState(args.state), retry_seconds=args.retry_seconds).serve()
    return 0


def run_scrapyd_cli(args: argparse.Namespace) -> int:
    from soundscraping.server import scrapyd_launcher

    twistd_args = args.twistd_args[1:] if args.twistd_args[:1] == ["--"] else args.twistd_args
    return scrapyd_launcher.run(twistd_args, check_only=args.check)
