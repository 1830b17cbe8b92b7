"""End-to-end Scrapyd deployment: build the egg with ``scrapyd-deploy`` as a
user does, start a real ``scrapyd`` on 127.0.0.1, deploy the egg through
scrapy.cfg's ``[deploy]`` target (``url = $SCRAPYD_URL``), schedule
``soundcloud_artists`` with ``schedule.json`` against the local SoundCloud
replica, and check the rows it stored in PostgreSQL.

The job runs in a subprocess of scrapyd, from the deployed egg (not from the
working tree), and gets its configuration only from ``setting=NAME=VALUE``:
the project's environment variables are removed from scrapyd's environment.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import pytest

from replicas.soundcloud import Quirks, SoundCloudReplica, WorldConfig, build_world
from tests.crawl import REPLICA_BUDGETS, query

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # the venv's bin/ (pytest runs as .venv/bin/python)
PROJECT = "soundscraping"
SPIDER = "soundcloud_artists"
VERSION = "e2e-1"
JOB_TIMEOUT = 120.0
# Read from the environment by soundscraping/settings.py (or by Scrapy/Scrapyd):
# removed so the job is configured by schedule.json alone.
PROJECT_ENV = (
    "SOUNDCLOUD_URL", "SOUNDCLOUD_API_URL", "SOUNDCLOUD_CLIENT_ID", "DATABASE_URL", "STORAGE_UNSAVED_DIR",
    "FILES_STORE", "STATS_FILE", "LOG_LEVEL", "SCRAPY_SETTINGS_MODULE", "SCRAPY_PROJECT", "SCRAPYD_URL",
    # Scrapyd 1.6 reads these itself (a developer's credentials would turn basic auth on here).
    "SCRAPYD_USERNAME", "SCRAPYD_PASSWORD", "SCRAPYD_BIND_ADDRESS", "SCRAPYD_HTTP_PORT",
)


# Everything is on 127.0.0.1: never through a proxy from the environment.
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path: Path, chars: int = 6000) -> str:
    if not path.exists():
        return f"<{path} does not exist>"
    text = path.read_text(encoding="utf-8", errors="replace")
    return text if len(text) <= chars else "...\n" + text[-chars:]


def run(cmd: Sequence[str | Path], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


def described(result: subprocess.CompletedProcess[str]) -> str:
    return (f"$ {' '.join(map(str, result.args))}\nexit code {result.returncode}\n"
            f"--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-4000:]}")


@dataclass
class Scrapyd:
    url: str
    workdir: Path
    eggs_dir: Path
    logs_dir: Path
    items_dir: Path
    output: Path  # scrapyd's own stdout/stderr
    env: dict[str, str]
    process: subprocess.Popen[bytes]

    def call(self, endpoint: str, params: Sequence[tuple[str, str]] = (), post: bool = False) -> dict[str, Any]:
        """JSON from the Scrapyd API; fails the test with scrapyd's log on a transport error."""
        query_string = urlencode(list(params))
        url = self.url + endpoint
        if post:
            request = urllib.request.Request(url, data=query_string.encode(), method="POST")
        else:
            request = urllib.request.Request(f"{url}?{query_string}" if query_string else url)
        try:
            with LOCAL.open(request, timeout=30) as response:
                return json.loads(response.read())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            pytest.fail(f"{endpoint} failed: {exc!r}\n--- scrapyd output ---\n{tail(self.output)}")

    def job_log(self, job_id: str) -> Path:
        return self.logs_dir / PROJECT / SPIDER / f"{job_id}.log"


def scrapyd_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROJECT_ENV}
    env["TMPDIR"] = str(tmp)  # scrapyd-deploy's scratch dirs (--build-egg never removes its own)
    env["PYTHONUNBUFFERED"] = "1"
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"  # requests (scrapyd-deploy) and Scrapy's jobs
    return env


ServerT = TypeVar("ServerT")


def start_with_retries(start: Callable[[Path, dict[str, str]], ServerT], base: Path, env: dict[str, str]) -> ServerT:
    """``start(base / "scrapyd-N", env)``, up to three attempts: a free port can be
    taken before scrapyd binds it."""
    errors = []
    for attempt in range(3):
        try:
            return start(base / f"scrapyd-{attempt}", env)
        except RuntimeError as exc:
            errors.append(str(exc))
    pytest.fail("scrapyd did not start:\n\n" + "\n\n".join(errors))


def write_scrapyd_conf(workdir: Path, port: int, *, max_proc: int, items: bool) -> dict[str, Path]:
    """``workdir/scrapyd.conf`` (Scrapyd reads it from its working directory, the
    job runner too) and the folders it names (items only with ``items``)."""
    dirs = {name: workdir / name for name in ("eggs", "logs", "dbs", *(("items",) if items else ()))}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)
    (workdir / "scrapyd.conf").write_text(textwrap.dedent(f"""\
        [scrapyd]
        bind_address  = 127.0.0.1
        http_port     = {port}
        eggs_dir      = {dirs["eggs"]}
        logs_dir      = {dirs["logs"]}
        items_dir     = {dirs.get("items", "")}
        dbs_dir       = {dirs["dbs"]}
        jobs_dir      =
        max_proc      = {max_proc}
        poll_interval = 0.2
        """))
    return dirs


def wait_until_answering(process: subprocess.Popen[Any], port: int, output: Path, answers: Callable[[], bool]) -> None:
    """Returns once ``answers()`` (daemonstatus.json); else, after 30 s or
    once scrapyd exits, stops it and raises RuntimeError (start_with_retries
    tries again)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if answers():
                return
        except (urllib.error.URLError, OSError, ValueError):
            pass
        time.sleep(0.1)
    stop_process_group(process)
    raise RuntimeError(f"scrapyd did not answer daemonstatus.json on port {port} "
                       f"(exit code {process.returncode})\n--- scrapyd output ---\n{tail(output)}")


def start_scrapyd(workdir: Path, env: dict[str, str]) -> Scrapyd:
    """One attempt on a free port; returns once daemonstatus.json answers."""
    port = free_port()
    dirs = write_scrapyd_conf(workdir, port, max_proc=1, items=True)
    output = workdir / "scrapyd.out"
    with output.open("wb") as out:
        # Own session: teardown can stop scrapyd and any crawl it spawned by group id.
        process = subprocess.Popen([str(BIN / "scrapyd")], cwd=workdir, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    server = Scrapyd(f"http://127.0.0.1:{port}/", workdir, dirs["eggs"], dirs["logs"], dirs["items"], output, env,
                     process)

    def answers() -> bool:
        with LOCAL.open(server.url + "daemonstatus.json", timeout=2) as response:
            return json.loads(response.read()).get("status") == "ok"

    wait_until_answering(process, port, output, answers)
    return server


def stop_process_group(process: subprocess.Popen[Any]) -> None:
    """SIGTERM to scrapyd's process group (scrapyd and its crawls), then
    SIGKILL; no crawl it spawned outlives it."""
    pgid = process.pid  # session leader: pgid == pid
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(10)
            break
        except subprocess.TimeoutExpired:
            continue
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@pytest.fixture
def scrapyd(tmp_path: Path) -> Iterator[Scrapyd]:
    assert (BIN / "scrapyd").exists(), f"no scrapyd executable next to {sys.executable}"
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    server = start_with_retries(start_scrapyd, tmp_path, scrapyd_env(scratch))
    try:
        yield server
    finally:
        stop_process_group(server.process)


@pytest.fixture
def egg(tmp_path: Path) -> Path:
    """``scrapyd-deploy --build-egg`` from the repository, as a user builds it."""
    assert (BIN / "scrapyd-deploy").exists(), f"no scrapyd-deploy executable next to {sys.executable}"
    scratch = tmp_path / "build-tmp"
    scratch.mkdir()
    path = tmp_path / f"{PROJECT}.egg"
    build_dir = REPO / "build"
    build_dir_existed = build_dir.exists()
    try:
        # --debug shows setup.py's output (here: in the failure message).
        result = run([BIN / "scrapyd-deploy", f"--build-egg={path}", "--debug"], scrapyd_env(scratch))
    finally:
        if not build_dir_existed:  # setup.py bdist_egg leaves build/ behind in the repository
            shutil.rmtree(build_dir, ignore_errors=True)
    assert result.returncode == 0 and path.is_file(), f"the egg did not build\n{described(result)}"
    return path


def test_scrapyd_deploy_and_crawl(pg_url: str, egg: Path, scrapyd: Scrapyd, tmp_path: Path) -> None:
    # pg_url first: its teardown (DROP DATABASE) runs after scrapyd and its crawl are stopped.
    # 1. The egg: the whole package and the settings entry point Scrapyd looks up.
    with zipfile.ZipFile(egg) as zf:
        names = set(zf.namelist())
        entry_points = zf.read("EGG-INFO/entry_points.txt").decode()
    for module in ("settings", "commands/crawl", "spiders/soundcloud_artists", "pipelines", "storage/__init__",
                   "storage/migrations/m0001_baseline", "media/streaming", "middlewares/antibot", "extensions",
                   "sites/soundcloud/parsers", "sites/cambridge_mt/forum"):
        assert f"soundscraping/{module}.py" in names, f"soundscraping/{module}.py missing from the egg: {sorted(names)}"
    assert "[scrapy]" in entry_points and "settings = soundscraping.settings" in entry_points, entry_points
    # Only the product: the replicas, tests and scripts stay in the checkout.
    assert {name.split("/")[0] for name in names} == {"soundscraping", "EGG-INFO"}, sorted(names)

    # 2. Deploy through scrapy.cfg's default [deploy] target (url = $SCRAPYD_URL).
    deploy = run([BIN / "scrapyd-deploy", "-p", PROJECT, "--version", VERSION, f"--egg={egg}"],
                 {**scrapyd.env, "SCRAPYD_URL": scrapyd.url})
    assert deploy.returncode == 0, f"scrapyd-deploy failed\n{described(deploy)}"
    # scrapyd answers errors with HTTP 200 and {"status": "error"}: read the answer.
    try:
        answer = json.loads(deploy.stdout)
    except ValueError:
        pytest.fail(f"scrapyd-deploy printed no JSON answer\n{described(deploy)}")
    assert answer.get("status") == "ok" and answer.get("project") == PROJECT, \
        f"addversion.json refused the egg: {answer}\n--- scrapyd output ---\n{tail(scrapyd.output)}"
    spiders = scrapyd.call("listspiders.json", [("project", PROJECT), ("_version", VERSION)])
    assert spiders.get("status") == "ok" and SPIDER in spiders.get("spiders", []), \
        f"listspiders.json: {spiders}\n--- scrapyd output ---\n{tail(scrapyd.output)}"
    assert scrapyd.call("listversions.json", [("project", PROJECT)]).get("versions") == [VERSION]

    # The job imports the project from the deployed egg, not from the working tree
    # (an editable install of soundscraping is in the same venv): same runner code, same cwd.
    stored_egg = scrapyd.eggs_dir / PROJECT / f"{VERSION}.egg"
    assert stored_egg.is_file(), f"no {stored_egg}: {sorted(map(str, scrapyd.eggs_dir.rglob('*')))}"
    probe = subprocess.run(
        [sys.executable, "-c", "import sys; from scrapyd.runner import activate_egg; activate_egg(sys.argv[1]); "
         "import soundscraping.spiders.soundcloud_artists as m; print(m.__file__)", str(stored_egg)],
        cwd=scrapyd.workdir, env=scrapyd.env, capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0 and probe.stdout.strip().startswith(str(stored_egg)), \
        f"the runner does not load the spider from the egg\n{described(probe)}"

    # 3. Schedule the crawl against the replica; all configuration through schedule.json.
    world = build_world(WorldConfig(artists=2, tracks_per_artist=3, comments_per_track=4))
    artists = world.artists[:2]
    files_store = tmp_path / "files"
    stats_file = tmp_path / "stats.json"
    with SoundCloudReplica(world, Quirks(datadome=False)) as sc:
        settings = {
            "SOUNDCLOUD_URL": sc.urls["web"],
            "SOUNDCLOUD_API_URL": sc.urls["api"],
            "DATABASE_URL": pg_url,
            "FILES_STORE": str(files_store),
            "MEDIA_ENABLED": "True",
            "STATS_FILE": str(stats_file),
            "STORAGE_UNSAVED_DIR": str(tmp_path / "unsaved"),
            **REPLICA_BUDGETS,
        }
        scheduled = scrapyd.call("schedule.json", [
            ("project", PROJECT), ("spider", SPIDER), ("_version", VERSION),
            ("artists", ",".join(a["permalink"] for a in artists)),
            *(("setting", f"{name}={value}") for name, value in settings.items()),
        ], post=True)
        assert scheduled.get("status") == "ok" and scheduled.get("jobid"), \
            f"schedule.json: {scheduled}\n--- scrapyd output ---\n{tail(scrapyd.output)}"
        job_id = scheduled["jobid"]
        finished = wait_for_job(scrapyd, job_id)

    job_log = scrapyd.job_log(job_id)
    errors = [line for line in tail(job_log, 10**7).splitlines() if " ERROR: " in line or " CRITICAL: " in line]
    report = (f"job {job_id}: {finished}\n--- ERROR lines ---\n" + "\n".join(errors[:20]) +
              f"\n--- job log {job_log} ---\n{tail(job_log)}\n"
              f"--- scrapyd output ---\n{tail(scrapyd.output, 3000)}")
    # The project's crawl command exits 1 when the crawl ends on a failure; scrapyd logs that.
    assert not re.search(rf"Process died: exitstatus=\S+ project={PROJECT!r} spider={SPIDER!r} job={job_id!r}",
                         scrapyd.output.read_text(errors="replace")), f"the job failed\n{report}"
    assert stats_file.is_file(), f"no STATS_FILE: the job ignored setting=STATS_FILE\n{report}"
    stats = json.loads(stats_file.read_text())
    assert stats.get("finish_reason") == "finished", f"finish_reason {stats.get('finish_reason')!r}\n{report}"
    assert not errors, f"errors in the job log\n{report}"

    # 4. What landed in PostgreSQL matches the replica's world.
    artist_ids = [a["id"] for a in artists]
    users = dict(query(pg_url, "SELECT id, full_profile FROM soundcloud_users WHERE id = ANY(%s)", (artist_ids,)))
    assert users == dict.fromkeys(artist_ids, True), f"artists (id -> full_profile): {users}\n{report}"
    permalinks = dict(query(pg_url, "SELECT id, permalink FROM soundcloud_users WHERE id = ANY(%s)", (artist_ids,)))
    assert permalinks == {a["id"]: a["permalink"] for a in artists}

    track_ids = [t["id"] for aid in artist_ids for t in world.tracks_of(aid)]
    assert len(track_ids) == 6
    stored_tracks = dict(query(pg_url, "SELECT id, user_id FROM soundcloud_tracks WHERE user_id = ANY(%s)",
                               (artist_ids,)))
    expected_tracks = {t["id"]: aid for aid in artist_ids for t in world.tracks_of(aid)}
    assert stored_tracks == expected_tracks, f"tracks (id -> user_id)\n{report}"

    expected_comments = {c["id"] for tid in track_ids for c in world.comments_of(tid)}
    assert expected_comments, "the world has no comments on these tracks"
    stored_comments = {row[0] for row in query(pg_url, "SELECT id FROM soundcloud_comments WHERE track_id = ANY(%s)",
                                               (track_ids,))}
    assert len(stored_comments) == len(expected_comments) and stored_comments == expected_comments, \
        f"{len(stored_comments)} comments stored, {len(expected_comments)} in the world\n{report}"

    # Media went to the FILES_STORE given through schedule.json.
    media = query(pg_url, "SELECT path FROM media_files")
    assert media, f"no media_files rows (MEDIA_ENABLED=True)\n{report}"
    missing = [path for (path,) in media if not (files_store / path).is_file()]
    assert not missing, f"media_files rows without a file in {files_store}: {missing}"


def wait_for_job(scrapyd: Scrapyd, job_id: str, timeout: float = JOB_TIMEOUT) -> dict[str, Any]:
    """Polls listjobs.json until the job is finished; fails with its log otherwise."""
    deadline = time.monotonic() + timeout
    state = "unknown"
    while time.monotonic() < deadline:
        jobs = scrapyd.call("listjobs.json", [("project", PROJECT)])
        for state in ("finished", "running", "pending"):
            match = next((job for job in jobs.get(state, []) if job.get("id") == job_id), None)
            if match is not None:
                break
        else:
            state = "missing"
        if state == "finished":
            return match  # type: ignore[return-value]
        if scrapyd.process.poll() is not None:
            break
        time.sleep(0.25)
    pytest.fail(f"job {job_id} not finished after {timeout:.0f} s (last state: {state}; scrapyd exit code "
                f"{scrapyd.process.returncode})\n--- job log ---\n{tail(scrapyd.job_log(job_id))}\n"
                f"--- scrapyd output ---\n{tail(scrapyd.output)}")
