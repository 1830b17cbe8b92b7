"""Provenance: one ``crawl_runs`` row per crawl (spider, arguments, the
settings that shaped it with secrets masked, code version and commit, start,
end, finish reason, final stats).  Every row the crawl stores carries its
``crawl_run_id`` (the store pipeline adds it: ``storage.CRAWL_RUN_ID``)."""

from __future__ import annotations

import functools
import importlib.metadata
import json
import re
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from soundscraping.storage import TABLES, Values, mask_url

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

# Setting names whose values are secrets: recorded as "***".
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|ACCESS_KEY|API_KEY|PRIVATE_KEY|CLIENT_ID|"
                          r"COOKIE|AUTH", re.IGNORECASE)
# Priority of settings.py; lower ones are Scrapy's defaults.
_PROJECT = 20
MASK = "***"
_MISSING = object()


def mask_secrets(name: str, value: Any) -> Any:
    """``value`` of setting ``name`` fit to be stored: secret-named settings
    masked, passwords in URLs masked, inside lists and dicts too."""
    if isinstance(value, str):
        if _SECRET_NAME.search(name):
            return MASK if value else value
        if "://" in value and "@" in value:
            try:
                return mask_url(value)
            except ValueError:  # not a URL after all: keep nothing that might be one
                return MASK
        return value
    if isinstance(value, Mapping):
        return {str(k): mask_secrets(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [mask_secrets(name, v) for v in value]
    return value


def recorded_settings(settings: BaseSettings) -> dict[str, Any]:
    """The settings that shaped the crawl: those the project, the command
    line or the spider set to something other than Scrapy's default."""
    from scrapy.settings import default_settings

    plain = settings.copy_to_dict()
    recorded = {}
    for name in sorted(plain):
        priority = settings.getpriority(name)
        if priority is None or priority < _PROJECT or plain[name] == getattr(default_settings, name, _MISSING):
            continue
        recorded[name] = mask_secrets(name, plain[name])
    return recorded


@functools.cache
def code_version() -> tuple[str | None, str | None]:
    """(package version, git commit with ``+dirty`` for uncommitted changes);
    the commit is None outside a git checkout (a Scrapyd egg)."""
    try:
        version: str | None = importlib.metadata.version("soundscraping")
    except importlib.metadata.PackageNotFoundError:
        version = None
    repo = Path(__file__).resolve().parents[1]
    if not (repo / ".git").exists():
        return version, None
    try:
        commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(repo), "diff", "--quiet", "HEAD", "--", "soundscraping"],
                               capture_output=True, timeout=5).returncode != 0
    except (OSError, subprocess.SubprocessError):
        return version, None
    return version, commit + ("+dirty" if dirty else "")


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


class CrawlRun:
    """The crawl's ``crawl_runs`` row.  Its id is made here (microseconds
    since the epoch: unique across the workers of a shared database, and in
    start order), so rows can carry it before the database is reached."""

    def __init__(self, crawler: Any):
        self.crawler = crawler
        self.id = time.time_ns() // 1000
        self.started_at: str | None = None

    def row(self, finished_at: str | None = None, reason: str | None = None,
            stats: Mapping[str, Any] | None = None) -> Values:
        spider = self.crawler.spider
        spec = getattr(spider, "arguments", None)
        arguments = {a.name: getattr(spider, a.attr or a.name, None) for a in spec.args} if spec else {}
        from soundscraping.units import job_id

        job = job_id(self.crawler) or getattr(spider, "_job", None)
        version, commit = code_version()
        values = {
            "id": self.id, "spider": getattr(spider, "name", None), "job": job, "arguments": _json(arguments),
            "settings": _json(recorded_settings(self.crawler.settings)), "version": version,
            "git_commit": commit, "started_at": self.started_at, "finished_at": finished_at,
            "finish_reason": reason, "stats": _json(dict(stats)) if stats is not None else None,
        }
        return tuple(values[c] for c in TABLES["crawl_runs"].column_names)
