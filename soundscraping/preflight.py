"""User mistakes a crawl can see before it starts: the spider arguments, the
settings that name places (DATABASE_URL, FILES_STORE, MONITOR_REPORT_DIR) and
monitor alerts switched on without what they need.  Each is reported
in one line, with exit code 2, instead of a traceback from deep inside a
crawl (see commands/crawl.py)."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scrapy.settings import BaseSettings

from soundscraping.monitoring.monitors import alert_actions
from soundscraping.spider_args import duration
from soundscraping.storage import Database, StorageError


class UserError(ValueError):
    """Something the user must fix; the message is one line."""


class ServiceUnavailable(RuntimeError):
    """A service the crawl needs does not answer (exit 1: worth retrying)."""


def check_redis(settings: BaseSettings, spidercls: type | None = None) -> None:
    """Distributed mode: the spider must share its work by units, and Redis
    must answer before anything starts."""
    from soundscraping import distributed

    if not distributed.enabled(settings):
        return
    if spidercls is not None and not getattr(spidercls, "shares_work", False):
        raise UserError(f"{getattr(spidercls, 'name', spidercls)} cannot share its work between workers yet: "
                        "run it without REDIS_URL")
    try:
        distributed.client(settings).ping()
    except distributed.RedisError as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ServiceUnavailable(f"Redis at {distributed.mask_redis_url(settings.get('REDIS_URL'))} does not answer "
                                 f"({first}); distributed mode (REDIS_URL) needs it") from None
    except ValueError as exc:  # a malformed URL
        raise UserError(f"REDIS_URL: {exc}") from None


def check_spider_arguments(spidercls: type, given: Mapping[str, Any]) -> None:
    parse = getattr(spidercls, "parse_arguments", None)
    if parse is not None:
        try:
            parse(given)
        except ValueError as exc:
            raise UserError(str(exc)) from None


def check_settings(settings: BaseSettings) -> None:
    pipelines = settings.getwithbase("ITEM_PIPELINES")
    if settings.getbool("STORAGE_ENABLED", True) and pipelines.get("soundscraping.pipelines.StorePipeline"):
        try:
            Database.from_url(settings.get("DATABASE_URL"))
        except StorageError as exc:
            raise UserError(str(exc)) from None
    hidden_after = settings.get("SOUNDCLOUD_RECRAWL_HIDDEN_STATS_AFTER")
    try:
        duration(str(hidden_after))
    except ValueError as exc:
        raise UserError(f"bad SOUNDCLOUD_RECRAWL_HIDDEN_STATS_AFTER={hidden_after}: {exc}") from None
    store = settings.get("FILES_STORE")
    if settings.getbool("MEDIA_ENABLED", True) and store and "://" not in str(store):
        check_writable_folder("FILES_STORE", Path(store))
    if settings.getbool("SPIDERMON_ENABLED"):
        check_writable_folder("MONITOR_REPORT_DIR", Path(settings.get("MONITOR_REPORT_DIR")))
        check_alerts(settings)


# Alert switch -> the settings (environment variables) it needs.
ALERT_NEEDS = {
    "MONITOR_SLACK_ENABLED": ("SPIDERMON_SLACK_SENDER_TOKEN", "SPIDERMON_SLACK_RECIPIENTS"),
    "MONITOR_EMAIL_ENABLED": ("SPIDERMON_SMTP_HOST", "SPIDERMON_SMTP_USER", "SPIDERMON_SMTP_PASSWORD",
                              "SPIDERMON_EMAIL_SENDER", "SPIDERMON_EMAIL_TO"),
}


def check_alerts(settings: BaseSettings) -> None:
    for switch, needed in ALERT_NEEDS.items():
        if settings.getbool(switch) and (missing := [name for name in needed if not settings.get(name)]):
            raise UserError(f"{switch} is on but {', '.join(missing)} is not set (environment variables)")
    try:
        alert_actions(settings)
    except ImportError as exc:
        raise UserError(f"monitor alerts need the 'alerts' extra (pip install -e '.[alerts]'): {exc}") from None


def check_writable_folder(setting: str, folder: Path) -> None:
    if problem := folder_write_problem(folder):
        raise UserError(f"{setting} {str(folder)!r} is not a writable folder: {problem}")


def folder_write_problem(folder: Path) -> str | None:
    """Why no file can be written in ``folder`` (made if missing), or None."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".soundscraping-write-check-"):
            pass
    except OSError as exc:
        return str(exc.strerror or exc)
    return None
