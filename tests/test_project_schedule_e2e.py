"""A locked-down Scrapyd and the scheduler, for real: ``soundscraping scrapyd``
starts Scrapyd with basic auth (credentials in its environment only), the egg
is deployed with ``scrapyd-deploy`` through scrapy.cfg's credentials, and
``soundscraping schedule serve`` starts crawls of the SoundCloud replica on a
2-second schedule into a fresh PostgreSQL database.

Determinism: the first crawl is held by the replica (one request never
answered until the test releases it), so the scheduler's ticks meet a running
job at a known point; every wait is on a line the scheduler prints or on
Scrapyd's listjobs.json, bounded by a generous timeout.
"""

from __future__ import annotations

import base64
import json
import logging
import queue
import re
import secrets
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from replicas.soundcloud import Quirks, SoundCloudReplica, WorldConfig, build_world
from soundscraping.server.runner import Outcome, Runner
from soundscraping.server.schedules import load
from tests.crawl import REPLICA_BUDGETS, query
from tests.test_project_scrapyd_e2e import (
    BIN,
    LOCAL,
    REPO,
    described,
    free_port,
    run,
    scrapyd_env,
    start_with_retries,
    stop_process_group,
    tail,
    wait_until_answering,
    write_scrapyd_conf,
)

PROJECT = "soundscraping"
SPIDER = "soundcloud_artists"
VERSION = "schedule-e2e"
USERNAME = "scheduler"
TIMEOUT = 90.0  # generous: a crawl in Scrapyd on a loaded 2-core machine takes a few seconds


def clean_env(tmp: Path) -> dict[str, str]:
    """scrapyd_env without any SCRAPYD_* variable of the developer's shell; TZ=UTC so
    listjobs.json's naive start/end times are UTC."""
    env = {k: v for k, v in scrapyd_env(tmp).items() if not k.startswith("SCRAPYD_")}
    return {**env, "TZ": "UTC"}


def http(url: str, params: list[tuple[str, str]] | None = None, *, auth: tuple[str, str] | None = None,
         post: bool = False) -> tuple[int, Any]:
    data = urlencode(params or [])
    request = (urllib.request.Request(url, data=data.encode(), method="POST") if post
               else urllib.request.Request(f"{url}?{data}" if data else url))
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
    try:
        with LOCAL.open(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None


@dataclass
class LockedScrapyd:
    url: str
    port: int
    password: str
    workdir: Path
    output: Path
    env: dict[str, str]  # without the credentials
    process: subprocess.Popen[bytes]

    @property
    def auth(self) -> tuple[str, str]:
        return USERNAME, self.password

    @property
    def credentials(self) -> dict[str, str]:
        return {"SCRAPYD_USERNAME": USERNAME, "SCRAPYD_PASSWORD": self.password}

    def call(self, endpoint: str, params: list[tuple[str, str]] | None = None) -> dict[str, Any]:
        status, answer = http(self.url + endpoint, params, auth=self.auth)
        assert status == 200 and answer.get("status") == "ok", \
            f"{endpoint}: HTTP {status} {answer}\n--- scrapyd output ---\n{tail(self.output)}"
        return answer


def start_locked_scrapyd(workdir: Path, env: dict[str, str]) -> LockedScrapyd:
    port = free_port()
    # max_proc 2: were the scheduler to start a run while the last one is running, both would run.
    write_scrapyd_conf(workdir, port, max_proc=2, items=False)
    password = secrets.token_urlsafe(16)
    output = workdir / "scrapyd.out"
    with output.open("wb") as out:
        # The launcher, as deploy/scrapyd.service runs it; the credentials only in its environment.
        process = subprocess.Popen([sys.executable, "-m", "soundscraping", "scrapyd"], cwd=workdir,
                                   env={**env, "SCRAPYD_USERNAME": USERNAME, "SCRAPYD_PASSWORD": password},
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = LockedScrapyd(f"http://127.0.0.1:{port}/", port, password, workdir, output, env, process)
    wait_until_answering(process, port, output,
                         lambda: http(server.url + "daemonstatus.json", auth=server.auth)[0] == 200)
    return server


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LockedScrapyd]:
    """Scrapyd with basic auth and the project's egg deployed with ``scrapyd-deploy`` (authenticated)."""
    tmp = tmp_path_factory.mktemp("locked-scrapyd")
    scratch = tmp / "tmp"
    scratch.mkdir()
    env = clean_env(scratch)
    server = start_with_retries(start_locked_scrapyd, tmp, env)
    try:
        egg = tmp / f"{PROJECT}.egg"
        build_dir_existed = (REPO / "build").exists()
        try:
            built = run([BIN / "scrapyd-deploy", f"--build-egg={egg}"], env)
        finally:
            if not build_dir_existed:
                shutil.rmtree(REPO / "build", ignore_errors=True)
        assert built.returncode == 0, f"the egg did not build\n{described(built)}"
        # scrapy.cfg's [deploy] target: url, username and password all from the environment.
        deploy_env = {**env, "SCRAPYD_URL": server.url}
        refused = run([BIN / "scrapyd-deploy", "-p", PROJECT, "--version", VERSION, f"--egg={egg}"],
                      {**deploy_env, "SCRAPYD_USERNAME": "", "SCRAPYD_PASSWORD": ""})
        assert "401" in refused.stdout + refused.stderr, f"deployed without credentials?\n{described(refused)}"
        deployed = run([BIN / "scrapyd-deploy", "-p", PROJECT, "--version", VERSION, f"--egg={egg}"],
                       {**deploy_env, **server.credentials})
        assert deployed.returncode == 0 and json.loads(deployed.stdout).get("status") == "ok", \
            f"authenticated scrapyd-deploy failed\n{described(deployed)}\n--- scrapyd ---\n{tail(server.output)}"
        yield server
    finally:
        stop_process_group(server.process)


def test_scrapyd_refuses_every_unauthenticated_call(scrapyd: LockedScrapyd) -> None:
    calls = [("addversion.json", [("project", PROJECT), ("version", "evil"), ("egg", "x")], True),
             ("schedule.json", [("project", PROJECT), ("spider", SPIDER)], True),
             ("listjobs.json", [("project", PROJECT)], False)]
    for endpoint, params, post in calls:
        for auth in (None, (USERNAME, "wrong-password"), ("someone", scrapyd.password)):
            status, _ = http(scrapyd.url + endpoint, params, auth=auth, post=post)
            assert status == 401, f"{endpoint} with auth {auth and auth[0]}: HTTP {status}"
    # Authenticated: the deploy went through (the fixture), and the API answers.
    assert scrapyd.call("listversions.json", [("project", PROJECT)])["versions"] == [VERSION]
    assert SPIDER in scrapyd.call("listspiders.json", [("project", PROJECT)])["spiders"]
    assert scrapyd.call("listjobs.json", [("project", PROJECT)])["running"] == []
    assert scrapyd.password not in scrapyd.output.read_text(errors="replace")  # never logged


def test_the_scheduler_says_when_scrapyd_refuses_its_credentials(
        scrapyd: LockedScrapyd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """In-process (the CLI's exit codes are checked under serve below): one line, naming the variables."""
    job = load(write_schedule(tmp_path, scrapyd.url, {"artists": "nobody"}, {})).job("replica-artists")
    for credentials, reason in (({}, "no credentials: set"),
                                ({"SCRAPYD_USERNAME": USERNAME, "SCRAPYD_PASSWORD": "wrong"}, "the credentials in")):
        for name in ("SCRAPYD_USERNAME", "SCRAPYD_PASSWORD"):
            monkeypatch.delenv(name, raising=False)
        for name, value in credentials.items():
            monkeypatch.setenv(name, value)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="soundscraping.schedule"):
            assert Runner(load(tmp_path / "schedules.toml")).fire(job) is Outcome.FAILED
        assert [r.getMessage() for r in caplog.records] == [
            f"replica-artists: not started: Scrapyd at {scrapyd.url} answered 401 Unauthorized to listjobs.json "
            f"({reason} SCRAPYD_USERNAME/SCRAPYD_PASSWORD); nothing was started"]


class Lines:
    """The scheduler's stderr, line by line, read on a thread: the test waits on lines, not on the clock."""

    def __init__(self, process: subprocess.Popen[str]):
        self.process = process
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, pattern: str, timeout: float = TIMEOUT) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.seen.append(line)
            if match := re.search(pattern, line):
                return match
        pytest.fail(f"no line matching {pattern!r} from the scheduler within {timeout:.0f} s (exit code "
                    f"{self.process.poll()}):\n" + "\n".join(self.seen))


def serve(schedule_file: Path, tmp_path: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], Lines]:
    process = subprocess.Popen(
        [sys.executable, "-m", "soundscraping", "schedule", "serve", "--file", str(schedule_file),
         "--state", str(tmp_path / "state.json")],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return process, Lines(process)


def stop_serving(process: subprocess.Popen[str], lines: Lines) -> None:
    process.send_signal(signal.SIGTERM)
    lines.wait_for(r"INFO stopping \(SIGTERM\)", timeout=30)
    assert process.wait(30) == 0


def write_schedule(tmp_path: Path, node_url: str, args: dict[str, str], settings: dict[str, str]) -> Path:
    def table(values: dict[str, str]) -> str:
        return "{ " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in values.items()) + " }"

    path = tmp_path / "schedules.toml"
    path.write_text(textwrap.dedent(f"""\
        [nodes.test]
        url = "{node_url}"

        [jobs.replica-artists]
        spider = "{SPIDER}"
        cron = "*/2 * * * * *"
        args = {table(args)}
        settings = {table(settings)}
        """), encoding="utf-8")
    return path


def naive_utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_2_second_schedule_runs_consecutive_jobs_that_never_overlap(
        pg_url: str, scrapyd: LockedScrapyd, tmp_path: Path) -> None:
    world = build_world(WorldConfig(artists=1, tracks_per_artist=3, comments_per_track=2))
    artist = world.artists[0]
    track_ids = sorted(t["id"] for t in world.tracks_of(artist["id"]))
    env = {**scrapyd.env, **scrapyd.credentials}
    with SoundCloudReplica(world, Quirks(datadome=False)) as sc:
        # The first run's track list is held: that run is still running at the next ticks.
        held = sc.holds.hold(lambda request: request.path == f"/users/{artist['id']}/tracks")
        # Arguments valid for the spider today (the runner passes any through).
        schedule_file = write_schedule(tmp_path, scrapyd.url, {"artists": artist["permalink"]}, {
            "SOUNDCLOUD_URL": sc.urls["web"], "SOUNDCLOUD_API_URL": sc.urls["api"], "DATABASE_URL": pg_url,
            "MEDIA_ENABLED": "False", "STORAGE_UNSAVED_DIR": str(tmp_path / "unsaved"), "LOG_LEVEL": "INFO",
            **REPLICA_BUDGETS})
        process, lines = serve(schedule_file, tmp_path, env)
        try:
            first = lines.wait_for(rf"INFO replica-artists: started {SPIDER} job (\S+) on {re.escape(scrapyd.url)}$")
            first_job = first.group(1)
            held.wait_arrived()
            lines.wait_for(rf"INFO replica-artists: not started: its job {re.escape(first_job)} is still running")
            # run-now obeys the same rule.
            now = subprocess.run([sys.executable, "-m", "soundscraping", "schedule", "run-now", "replica-artists",
                                  "--file", str(schedule_file)], cwd=REPO, env=env, capture_output=True, text=True,
                                 timeout=60)
            assert now.returncode == 1 and now.stderr.splitlines()[-1].endswith(
                f"INFO replica-artists: not started: its job {first_job} is still running on {scrapyd.url}"), \
                described(now)
            held.release()
            second_job = lines.wait_for(rf"INFO replica-artists: started {SPIDER} job (\S+) on ").group(1)
            stop_serving(process, lines)
        finally:
            if process.poll() is None:
                process.kill()
            held.release()
        finished = wait_finished(scrapyd, [first_job, second_job])

    assert second_job != first_job
    ours = [job for state in ("pending", "running", "finished")
            for job in scrapyd.call("listjobs.json", [("project", PROJECT)])[state]
            if job["id"].startswith("replica-artists.")]
    assert sorted(job["id"] for job in ours) == sorted([first_job, second_job])
    one, two = finished[first_job], finished[second_job]
    assert naive_utc(one["end_time"]) <= naive_utc(two["start_time"]), f"the jobs overlapped: {one} {two}"
    output = scrapyd.output.read_text(errors="replace")
    for job_id in (first_job, second_job):
        assert re.search(rf"Process finished: project={PROJECT!r} spider={SPIDER!r} job={job_id!r}", output), \
            f"job {job_id} did not finish with exit code 0\n{tail(scrapyd.output)}"
        log = scrapyd.workdir / "logs" / PROJECT / SPIDER / f"{job_id}.log"
        errors = [line for line in tail(log, 10**7).splitlines() if " ERROR: " in line or " CRITICAL: " in line]
        assert not errors, f"errors in {log}:\n" + "\n".join(errors[:20])

    # Rows from both runs: each stored one popularity row per track while it ran (scraped_at is
    # to the second, so a window opens at its start's whole second).
    stats = query(pg_url, "SELECT track_id, scraped_at FROM soundcloud_track_stats ORDER BY track_id, scraped_at")
    per_track: dict[int, list[datetime]] = {}
    for track, scraped_at in stats:
        per_track.setdefault(track, []).append(scraped_at)
    assert sorted(per_track) == track_ids and all(len(times) == 2 for times in per_track.values()), stats
    for index, job in enumerate((one, two)):
        start, end = naive_utc(job["start_time"]).replace(microsecond=0), naive_utc(job["end_time"])
        outside = {track: times[index] for track, times in per_track.items() if not start <= times[index] <= end}
        assert not outside, f"job {job['id']} ran {start} .. {end}; its rows' scraped_at: {outside}"


def wait_finished(scrapyd: LockedScrapyd, job_ids: list[str], timeout: float = TIMEOUT) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        finished = {job["id"]: job for job in scrapyd.call("listjobs.json", [("project", PROJECT)])["finished"]}
        if all(job_id in finished for job_id in job_ids):
            return finished
        time.sleep(0.25)
    pytest.fail(f"jobs {job_ids} not finished after {timeout:.0f} s\n--- scrapyd output ---\n{tail(scrapyd.output)}")


def test_scrapyd_down_is_one_line_per_tick_and_retried(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    dead = f"http://127.0.0.1:{free_port()}/"  # nothing listens there
    schedule_file = write_schedule(tmp_path, dead, {"artists": "nobody"}, {})
    env = clean_env(tmp_path)
    with caplog.at_level(logging.INFO, logger="soundscraping.schedule"):
        assert Runner(load(schedule_file)).fire(load(schedule_file).job("replica-artists")) is Outcome.FAILED
    [message] = [r.getMessage() for r in caplog.records]
    assert re.fullmatch(rf"replica-artists: not started: cannot reach Scrapyd at {re.escape(dead)} \(listjobs.json\): "
                        r".*[Cc]onnection refused.*; nothing was started", message), message

    process, lines = serve(schedule_file, tmp_path, env)
    try:
        pattern = (rf"^\S+ \S+ ERROR replica-artists: not started: cannot reach Scrapyd at {re.escape(dead)} "
                   r"\(listjobs.json\): .*; retrying at the next run \((\S+ \S+) UTC\)$")
        retry_at = lines.wait_for(pattern).group(1)
        lines.wait_for(pattern)  # the next tick tried again, and said so in one line again
        assert process.poll() is None, "the scheduler died with Scrapyd down"
        stop_serving(process, lines)
    finally:
        if process.poll() is None:
            process.kill()
    failures = [line for line in lines.seen if "cannot reach Scrapyd" in line]
    # Each line starts with its time: the second attempt is the announced next run (or later, if loaded).
    assert len(failures) >= 2 and failures[1][:19] >= retry_at, lines.seen
    assert not [line for line in lines.seen if "Traceback" in line or line.startswith(" ")], lines.seen


def test_a_run_missed_while_the_scheduler_was_down_is_made_up_and_retried(tmp_path: Path) -> None:
    """A yearly job whose last run (in the state file) was before its last due time runs once at
    start; Scrapyd is down, so it is retried after --retry-seconds, not a year later."""
    dead = f"http://127.0.0.1:{free_port()}/"
    schedule_file = write_schedule(tmp_path, dead, {"artists": "nobody"}, {})
    schedule_file.write_text(schedule_file.read_text().replace('"*/2 * * * * *"', '"0 0 1 jan *"'))
    (tmp_path / "state.json").write_text(json.dumps({"replica-artists": "2025-01-01T00:00:00+00:00"}))
    process = subprocess.Popen(
        [sys.executable, "-m", "soundscraping", "schedule", "serve", "--file", str(schedule_file),
         "--state", str(tmp_path / "state.json"), "--retry-seconds", "1"],
        cwd=REPO, env=clean_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = Lines(process)
    try:
        lines.wait_for(r"INFO replica-artists: the run due at 2026-01-01 00:00:00 UTC was missed while the "
                       r"scheduler was down: running it now$")
        retry_at = lines.wait_for(r"ERROR replica-artists: not started: cannot reach Scrapyd at .*; "
                                  r"retrying at (\S+ \S+) UTC$").group(1)
        again = lines.wait_for(r"ERROR replica-artists: not started: cannot reach Scrapyd at .*; retrying at ")
        assert again.string[:19] >= retry_at, lines.seen
        stop_serving(process, lines)
    finally:
        if process.poll() is None:
            process.kill()
    # Nothing started: the state still says the last run was in 2025 (made up again at the next start).
    assert json.loads((tmp_path / "state.json").read_text()) == {"replica-artists": "2025-01-01T00:00:00+00:00"}
