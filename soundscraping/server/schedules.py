"""The schedule file (``deploy/schedules.toml``): which spider runs when, with
which arguments, on which Scrapyd node.

::

    timezone = "UTC"                      # of the cron expressions (default UTC)

    [nodes.local]
    url = "http://127.0.0.1:6800/"        # credentials: $SCRAPYD_USERNAME / $SCRAPYD_PASSWORD
    # username_env / password_env = other variable names, per node

    [jobs.artists-weekly]
    spider = "soundcloud_artists"
    cron = "0 3 * * mon"                  # minute hour day month weekday; 6 fields: seconds first
    args = { artists_file = "/srv/soundscraping/artists.txt", recrawl_after = "7d" }
    settings = { LOG_LEVEL = "INFO" }     # setting=NAME=VALUE (no secrets: the file is committed)
    project = "soundscraping"             # default
    node = "local"                        # default: the only node

The runner passes ``args`` through to Scrapyd as they are (the spider checks
them), so a spider's new argument needs no change here.  A mistake in the file
is a ``ScheduleError``: one line naming the file, the job and the key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

from soundscraping.server.scrapyd_api import PASSWORD_ENV, USERNAME_ENV, Node

DEFAULT_FILE = Path("deploy/schedules.toml")
DEFAULT_PROJECT = "soundscraping"
# A job's name starts the Scrapyd job ids it gets (``<name>.<UTC time>``), which is
# how the runner recognises its own jobs in listjobs.json: so no dot in a name.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
# schedule.json's own parameters: a spider argument of that name would be eaten by Scrapyd.
RESERVED_ARGS = frozenset({"project", "spider", "setting", "jobid", "_version", "priority"})
JOB_KEYS = frozenset({"spider", "cron", "args", "settings", "project", "node"})
NODE_KEYS = frozenset({"url", "username_env", "password_env"})
CRON_FIELDS = ("minute", "hour", "day", "month", "day_of_week")


class ScheduleError(ValueError):
    """A mistake in the schedule file (one line)."""


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    spider: str
    cron: str
    trigger: CronTrigger
    node: Node
    project: str = DEFAULT_PROJECT
    args: dict[str, str] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)

    def owns(self, scrapyd_job_id: str) -> bool:
        """True for the Scrapyd job ids this schedule gives its runs."""
        return scrapyd_job_id.startswith(self.name + ".")


@dataclass(frozen=True)
class Schedule:
    path: Path
    timezone: tzinfo
    nodes: dict[str, Node]
    jobs: dict[str, ScheduledJob]

    def job(self, name: str) -> ScheduledJob:
        if name not in self.jobs:
            raise ScheduleError(f"{self.path}: no job named {name!r} (jobs: {', '.join(self.jobs) or 'none'})")
        return self.jobs[name]


def cron_trigger(expression: str, timezone: tzinfo) -> CronTrigger:
    """A crontab expression (5 fields, or 6 with seconds first) as an APScheduler trigger.

    Weekdays must be names: APScheduler 3 counts 0 as Monday where crontab counts
    0 as Sunday, so a number there would silently run on the wrong day."""
    fields = expression.split()
    if len(fields) not in (5, 6):
        raise ValueError(f"{len(fields)} fields (expected 5: minute hour day month weekday, or 6 with seconds first)")
    if re.search(r"\d", fields[-1]):
        raise ValueError("write weekdays as names (mon, tue, ... sun; mon-fri): numbers mean other days "
                         "in crontab and in APScheduler")
    names = ("second", *CRON_FIELDS) if len(fields) == 6 else CRON_FIELDS
    return CronTrigger(timezone=timezone, **dict(zip(names, fields, strict=True)))


def _strings(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ScheduleError(f"{where} must be a table (name = value)")
    out = {}
    for key, item in value.items():
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise ScheduleError(f"{where}.{key} must be a string or a number, not {type(item).__name__}")
        out[key] = str(item)
    return out


def _node(name: str, table: Any, where: str) -> Node:
    if not isinstance(table, dict):
        raise ScheduleError(f"{where} must be a table")
    if unknown := sorted(set(table) - NODE_KEYS):
        raise ScheduleError(f"{where}: unknown key {unknown[0]!r} (valid: {', '.join(sorted(NODE_KEYS))})")
    url = table.get("url")
    if not isinstance(url, str) or not re.match(r"^https?://[^/]+", url):
        raise ScheduleError(f"{where}.url must be an http(s) URL, e.g. \"http://127.0.0.1:6800/\"")
    return Node(name, url, str(table.get("username_env", USERNAME_ENV)), str(table.get("password_env", PASSWORD_ENV)))


def _job(name: str, table: Any, nodes: dict[str, Node], timezone: tzinfo, where: str) -> ScheduledJob:
    if not NAME.match(name):
        raise ScheduleError(f"{where}: a job name is letters, digits, '-' and '_' (it starts the Scrapyd job ids)")
    if not isinstance(table, dict):
        raise ScheduleError(f"{where} must be a table")
    if unknown := sorted(set(table) - JOB_KEYS):
        raise ScheduleError(f"{where}: unknown key {unknown[0]!r} (valid: {', '.join(sorted(JOB_KEYS))})")
    for key in ("spider", "cron"):
        if not isinstance(table.get(key), str) or not table[key].strip():
            raise ScheduleError(f"{where}.{key} is required (a string)")
    try:
        trigger = cron_trigger(table["cron"], timezone)
    except ValueError as exc:
        raise ScheduleError(f"{where}.cron {table['cron']!r}: {exc}") from None
    node_name = table.get("node")
    if node_name is None:
        if len(nodes) != 1:
            raise ScheduleError(f"{where}.node is required when the file defines {len(nodes)} nodes")
        node_name = next(iter(nodes))
    if node_name not in nodes:
        raise ScheduleError(f"{where}.node {node_name!r} is not defined (nodes: {', '.join(nodes) or 'none'})")
    args = _strings(table.get("args", {}), f"{where}.args")
    if reserved := sorted(set(args) & RESERVED_ARGS):
        raise ScheduleError(f"{where}.args: {reserved[0]!r} is a parameter of schedule.json, not a spider argument")
    return ScheduledJob(name=name, spider=table["spider"], cron=table["cron"], trigger=trigger,
                        node=nodes[node_name], project=str(table.get("project", DEFAULT_PROJECT)), args=args,
                        settings=_strings(table.get("settings", {}), f"{where}.settings"))


def load(path: Path) -> Schedule:
    """The schedule in ``path``; ScheduleError (one line) for any mistake."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScheduleError(f"cannot read the schedule file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScheduleError(f"{path}: not valid TOML: {exc}") from None
    if unknown := sorted(set(data) - {"timezone", "nodes", "jobs"}):
        raise ScheduleError(f"{path}: unknown key {unknown[0]!r} (valid: jobs, nodes, timezone)")
    name = str(data.get("timezone", "UTC"))
    try:
        # UTC needs no time-zone database (a minimal host may have none).
        timezone: tzinfo = UTC if name == "UTC" else ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"{path}: unknown timezone {data.get('timezone')!r} (e.g. \"UTC\", \"Europe/Paris\")") \
            from None
    nodes_table, jobs_table = data.get("nodes", {}), data.get("jobs", {})
    if not isinstance(nodes_table, dict) or not nodes_table:
        raise ScheduleError(f"{path}: no [nodes.NAME] table (the Scrapyd servers, with their url)")
    if not isinstance(jobs_table, dict):
        raise ScheduleError(f"{path}: jobs must be tables ([jobs.NAME])")
    nodes = {name: _node(name, table, f"{path}: nodes.{name}") for name, table in nodes_table.items()}
    jobs = {name: _job(name, table, nodes, timezone, f"{path}: jobs.{name}") for name, table in jobs_table.items()}
    return Schedule(path, timezone, nodes, jobs)
