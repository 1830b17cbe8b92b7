"""The schedule file, the scheduler's bookkeeping and the Scrapyd lock-down
check, in-process (the real Scrapyd runs in tests/test_project_schedule_e2e.py)."""

from __future__ import annotations

import os
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.project import get_project_settings
from scrapyd.config import Config

from soundscraping.__main__ import main
from soundscraping.server.runner import RunState, missed_run, scrapyd_job_id
from soundscraping.server.schedules import ScheduleError, load
from soundscraping.server.scrapyd_launcher import UnsafeScrapydConfig, check, effective

REPO = Path(__file__).resolve().parents[1]

GOOD = """\
timezone = "Europe/Paris"

[nodes.local]
url = "http://127.0.0.1:6800"

[jobs.artists]
spider = "soundcloud_artists"
cron = "*/2 * * * * *"
args = { artists = "a,b", max = 3 }
settings = { LOG_LEVEL = "INFO" }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schedules.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_schedule_file_loads_with_its_defaults(tmp_path: Path) -> None:
    schedule = load(write(tmp_path, GOOD))
    job = schedule.job("artists")
    assert (job.spider, job.project, job.node.name, job.node.base) == \
        ("soundcloud_artists", "soundscraping", "local", "http://127.0.0.1:6800/")
    assert job.args == {"artists": "a,b", "max": "3"} and job.settings == {"LOG_LEVEL": "INFO"}
    # Six fields: seconds first; every 2 s.
    start = datetime(2026, 12, 1, 12, 0, 1, tzinfo=UTC)
    first = job.trigger.get_next_fire_time(None, start)
    assert first == datetime(2026, 12, 1, 12, 0, 2, tzinfo=UTC)
    assert job.trigger.get_next_fire_time(first, first + timedelta(microseconds=1)) - first == timedelta(seconds=2)
    assert job.owns("artists.20261201T120002.000Z") and not job.owns("artists-weekly.20261201T120002.000Z")
    assert scrapyd_job_id(job, start) == "artists.20261201T120001.000Z"


def test_cron_runs_in_the_files_timezone(tmp_path: Path) -> None:
    job = load(write(tmp_path, GOOD.replace('"*/2 * * * * *"', '"0 3 * * mon"'))).job("artists")
    # 1 Dec 2026 is a Tuesday: the next Monday 03:00 in Paris (UTC+1) is 7 Dec at 02:00 UTC.
    due = job.trigger.get_next_fire_time(None, datetime(2026, 12, 1, tzinfo=UTC))
    assert due.astimezone(UTC) == datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(("change", "message"), [
    (('cron = "*/2 * * * * *"', 'cron = "0 3 * * 1"'),
     "jobs.artists.cron '0 3 * * 1': write weekdays as names (mon, tue, ... sun; mon-fri)"),
    (('cron = "*/2 * * * * *"', 'cron = "0 3 * *"'), "jobs.artists.cron '0 3 * *': 4 fields"),
    (('cron = "*/2 * * * * *"', 'cron = "0 25 * * *"'), "jobs.artists.cron '0 25 * * *': "),
    (('spider = "soundcloud_artists"', ''), "jobs.artists.spider is required"),
    (('spider =', 'spidr = "x"\nspider ='), "jobs.artists: unknown key 'spidr'"),
    (('args = { artists = "a,b", max = 3 }', 'args = { project = "x" }'),
     "jobs.artists.args: 'project' is a parameter of schedule.json"),
    (('args = { artists = "a,b", max = 3 }', 'args = { artists = ["a"] }'),
     "jobs.artists.args.artists must be a string or a number, not list"),
    (('[jobs.artists]', '[jobs."art.ists"]'), "a job name is letters, digits"),
    (('[jobs.artists]', '[nodes.other]\nurl = "http://h:1/"\n[jobs.artists]'),
     "jobs.artists.node is required when the file defines 2 nodes"),
    (('url = "http://127.0.0.1:6800"', 'url = "127.0.0.1:6800"'), "nodes.local.url must be an http(s) URL"),
    (('timezone = "Europe/Paris"', 'timezone = "Mars/Olympus"'), "unknown timezone 'Mars/Olympus'"),
    (('[jobs.artists]', '[jobs.artists'), "not valid TOML"),
])
def test_mistakes_in_the_file_are_one_line_naming_the_place(tmp_path: Path, change: tuple[str, str],
                                                            message: str) -> None:
    text = GOOD.replace(*change)
    assert text != GOOD
    with pytest.raises(ScheduleError) as raised:
        load(write(tmp_path, text))
    assert message in str(raised.value) and "\n" not in str(raised.value)
    assert str(raised.value).startswith(str(tmp_path / "schedules.toml"))


def test_the_shipped_schedule_uses_project_spiders_and_the_incremental_recrawl() -> None:
    schedule = load(REPO / "deploy" / "schedules.toml")
    assert schedule.jobs
    spiders = SpiderLoader.from_settings(get_project_settings())
    for job in schedule.jobs.values():
        spider = spiders.load(job.spider)  # KeyError: not a spider of the project
        assert "recrawl_after" in job.args, f"{job.name} re-crawls everything"
        # Names only: the files named (artists_file=/srv/...) live on the server.
        unknown = set(job.args) - set(spider.all_arguments().names)
        assert not unknown, f"{job.name}: {spider.name} has no argument {unknown}"
        assert job.node.base == "http://127.0.0.1:6800/"


def test_a_run_missed_while_down_is_made_up_once(tmp_path: Path) -> None:
    job = load(write(tmp_path, GOOD.replace('"*/2 * * * * *"', '"0 3 * * *"'))).job("artists")
    last = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 03:00 in Paris
    assert missed_run(job, None, last + timedelta(days=5)) is None  # never ran: nothing to make up
    assert missed_run(job, last, last + timedelta(hours=23)) is None
    # Down for three days: one run (the first missed one is reported), not three.
    assert missed_run(job, last, last + timedelta(days=3)) == datetime(2026, 12, 2, 2, 0, tzinfo=UTC)

    state_file = tmp_path / "state" / "schedule-state.json"
    RunState(state_file).record("artists", last)
    assert RunState(state_file).last_run("artists") == last
    state_file.write_text("{not json", encoding="utf-8")
    assert RunState(state_file).last_run("artists") is None


def shipped_scrapyd_config() -> Config:
    # Highest priority last: the shipped file over Scrapyd's defaults (and any /etc file here).
    return Config(extra_sources=[str(REPO / "deploy" / "scrapyd.conf")])


def test_the_shipped_scrapyd_conf_is_loopback_only_and_holds_no_secret() -> None:
    listening = effective(shipped_scrapyd_config(), environ={})
    assert (listening.bind_address, listening.http_port, listening.username, listening.password) == \
        ("127.0.0.1", 6800, "", "")
    check(listening)  # local-only needs no password


@pytest.mark.parametrize(("environ", "message"), [
    ({"SCRAPYD_BIND_ADDRESS": "0.0.0.0"},
     "Scrapyd would listen on 0.0.0.0 without authentication (anyone who reaches port 6800 could upload code): "
     "set SCRAPYD_USERNAME and SCRAPYD_PASSWORD, or bind_address = 127.0.0.1"),
    ({"SCRAPYD_BIND_ADDRESS": "scrapyd.example.org"}, "Scrapyd would listen on scrapyd.example.org without"),
    ({"SCRAPYD_BIND_ADDRESS": "::", "SCRAPYD_USERNAME": "bot"}, "SCRAPYD_PASSWORD is not set"),
    ({"SCRAPYD_PASSWORD": "pw"}, "SCRAPYD_USERNAME is not set"),
    ({"SCRAPYD_USERNAME": "a:b", "SCRAPYD_PASSWORD": "pw"}, "SCRAPYD_USERNAME must not contain ':'"),
])
def test_an_exposed_scrapyd_is_refused(environ: dict[str, str], message: str) -> None:
    with pytest.raises(UnsafeScrapydConfig) as raised:
        check(effective(shipped_scrapyd_config(), environ=environ))
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_a_scrapyd_elsewhere_with_credentials_is_accepted() -> None:
    for address in ("0.0.0.0", "::", "10.0.0.5"):
        check(effective(shipped_scrapyd_config(), environ={
            "SCRAPYD_BIND_ADDRESS": address, "SCRAPYD_USERNAME": "bot", "SCRAPYD_PASSWORD": "s3cret"}))
    for address in ("127.0.0.1", "127.0.0.2", "::1", "localhost"):
        check(effective(shipped_scrapyd_config(), environ={"SCRAPYD_BIND_ADDRESS": address}))


def soundscraping(args: list[str], cwd: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                  capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``soundscraping <args>`` in-process (exit code, stdout, stderr), in ``cwd`` with only ``env``'s SCRAPYD_*."""
    for name in [n for n in os.environ if n.startswith("SCRAPYD_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(cwd)
    capsys.readouterr()
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_launcher_refuses_in_one_line_with_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    # Scrapyd reads ./scrapyd.conf: the launcher reads it the same way.
    (tmp_path / "scrapyd.conf").write_text((REPO / "deploy" / "scrapyd.conf").read_text())
    code, out, err = soundscraping(["scrapyd"], tmp_path, {"SCRAPYD_BIND_ADDRESS": "0.0.0.0"}, monkeypatch, capsys)
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "soundscraping scrapyd: error: Scrapyd would listen on 0.0.0.0 without authentication (anyone who reaches "
        "port 6800 could upload code): set SCRAPYD_USERNAME and SCRAPYD_PASSWORD, or bind_address = 127.0.0.1"]
    (tmp_path / "scrapyd.conf").write_text("[scrapyd]\nbind_address = 0.0.0.0\nhttp_port = 6900\n")
    code, out, err = soundscraping(["scrapyd", "--check"], tmp_path,
                                   {"SCRAPYD_USERNAME": "bot", "SCRAPYD_PASSWORD": "pw"}, monkeypatch, capsys)
    assert (code, out) == (0, "Scrapyd on http://0.0.0.0:6900/ with basic auth\n")
    assert "pw" not in out + err


def test_schedule_commands_report_a_bad_file_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = soundscraping(["schedule", "list", "--file", str(tmp_path / "nope.toml")], tmp_path, {},
                                 monkeypatch, capsys)
    assert code == 2
    assert err.splitlines() == [f"soundscraping schedule: error: cannot read the schedule file "
                                f"{tmp_path / 'nope.toml'}: No such file or directory"]
    path = write(tmp_path, GOOD)
    code, _, err = soundscraping(["schedule", "run-now", "bogus", "--file", str(path)], tmp_path, {}, monkeypatch,
                                 capsys)
    assert code == 2
    assert err.splitlines() == [f"soundscraping schedule: error: {path}: no job named 'bogus' (jobs: artists)"]
    code, out, err = soundscraping(["schedule", "list", "--file", str(path), "--state", str(tmp_path / "s.json")],
                                   tmp_path, {}, monkeypatch, capsys)
    assert code == 0, err
    assert out.splitlines()[1].startswith(
        "artists: soundcloud_artists -a artists=a,b -a max=3 | cron '*/2 * * * * *' | next ")
    assert "| last never | soundscraping on local (http://127.0.0.1:6800/)" in out
