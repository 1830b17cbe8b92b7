"""Run ``scrapy crawl`` as a user would (a subprocess of the project) and read
what it left behind: exit code, log, final stats and the stored rows."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get("PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# The replicas answer at machine speed: crawls of them raise the real site's
# request budget (SOUNDCLOUD_REQUEST_BUDGET, 600/600 s) explicitly.
REPLICA_BUDGETS = {"SOUNDCLOUD_REQUEST_BUDGET": "1000000/1"}


def admin(sql: str) -> None:
    """Run a statement on the PostgreSQL server outside a transaction
    (CREATE/DROP DATABASE, ALTER DATABASE, ...)."""
    conn = psycopg2.connect(PG_ADMIN)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


def admin_db(database_url: str, sql: str) -> None:
    """Run a statement in one PostgreSQL database, outside a transaction."""
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


@dataclass
class CrawlResult:
    returncode: int
    log: str
    stats: dict[str, Any] = field(default_factory=dict)

    def stat(self, key: str) -> int:
        return int(self.stats.get(key) or 0)


def crawl_command(spider: str, args: Mapping[str, str], settings: Mapping[str, Any]) -> list[str]:
    cmd = [sys.executable, "-m", "scrapy", "crawl", spider]
    for name, value in args.items():
        cmd += ["-a", f"{name}={value}"]
    for name, value in settings.items():
        cmd += ["-s", f"{name}={value}"]
    return cmd


def start_crawl(spider: str, workdir: Path, *, args: Mapping[str, str] | None = None,
                settings: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None,
                run: str = "crawl") -> tuple[subprocess.Popen[bytes], Path, Path]:
    workdir.mkdir(parents=True, exist_ok=True)
    log_file, stats_file = workdir / f"{run}.log", workdir / f"{run}.stats.json"
    stats_file.unlink(missing_ok=True)
    full_settings = {"LOG_FILE": log_file, "STATS_FILE": stats_file, "LOG_LEVEL": "INFO", **REPLICA_BUDGETS,
                     "MONITOR_REPORT_DIR": workdir / "reports", **(settings or {})}
    process_env = {**os.environ, **(env or {})}
    process = subprocess.Popen(crawl_command(spider, args or {}, full_settings), cwd=REPO, env=process_env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return process, log_file, stats_file


def finish(process: subprocess.Popen[bytes], log_file: Path, stats_file: Path, timeout: float = 300) -> CrawlResult:
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()  # a hung crawl must not outlive its test
        process.wait(30)
        raise
    log = log_file.read_text(encoding="utf-8") if log_file.exists() else ""
    log += stderr.decode("utf-8", "replace")
    stats = json.loads(stats_file.read_text()) if stats_file.exists() else {}
    return CrawlResult(process.returncode, log, stats)


def run_crawl(spider: str, workdir: Path, *, timeout: float = 300, **kwargs: Any) -> CrawlResult:
    process, log_file, stats_file = start_crawl(spider, workdir, **kwargs)
    return finish(process, log_file, stats_file, timeout)


def kill_when(process: subprocess.Popen[bytes], condition: Callable[[], bool], timeout: float = 120) -> None:
    """SIGKILL the crawl as soon as ``condition()`` holds (polled)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if condition():
            process.send_signal(signal.SIGKILL)
            process.wait(30)
            return
        time.sleep(0.05)
    raise AssertionError("crawl ended before the kill condition held")


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 120) -> None:
    """Poll ``condition()`` for a state the crawl cannot pass (it is held at
    a known point by the replica); the timeout only bounds a broken run."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never reached: {what}")
        time.sleep(0.05)


def count_rows(database_url: str, table: str) -> int:
    """Rows in ``table``, or -1 while the database cannot answer."""
    try:
        return int(query(database_url, f"SELECT count(*) FROM {table}")[0][0])
    except (psycopg2.Error, sqlite3.Error):
        return -1


def query(database_url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows from either engine (the same SQL works on both for plain SELECTs)."""
    if database_url.startswith("sqlite:///"):
        conn = sqlite3.connect(database_url[len("sqlite:///"):])
        try:
            return conn.execute(sql.replace("%s", "?"), params).fetchall()
        finally:
            conn.close()
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    conn.close()
    return rows
