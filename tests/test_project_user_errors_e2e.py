"""User mistakes get one line and exit code 2, never a traceback; an
unreachable site names the setting and the URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from replicas.soundcloud import Quirks, SoundCloudReplica, WorldConfig, build_world
from tests.conftest import free_port
from tests.crawl import run_crawl

MISTAKES = {
    "no artists": ("soundcloud_artists", {}, {},
                   "soundcloud_artists: nothing to crawl: give -a artists=NAME,NAME,... or -a artists_file=PATH"),
    "missing artists_file": ("soundcloud_artists", {"artists_file": "/nowhere/artists.txt"}, {},
                             "soundcloud_artists: bad -a artists_file=/nowhere/artists.txt: "
                             "no such file '/nowhere/artists.txt'"),
    "max_accounts=ten": ("soundcloud_graph", {"seeds": "a", "max_accounts": "ten"}, {},
                         "soundcloud_graph: bad -a max_accounts=ten: not a whole number"),
    "download=everything": ("cambridge_mt", {"download": "everything"}, {},
                            "cambridge_mt: bad -a download=everything: must be one of none, previews, all"),
    "unknown argument": ("soundcloud_artists", {"artists": "a", "bogus": "1"}, {},
                         "soundcloud_artists has no argument 'bogus' (valid arguments: artists, artists_file, "
                         "recrawl_after)"),
    "recrawl_after=soon": ("cambridge_forum", {"recrawl_after": "soon"}, {},
                           "cambridge_forum: bad -a recrawl_after=soon: not a duration (give a number and a unit: "
                           "7d, 12h, 30m, 45s, 1w, or e.g. 1d12h)"),
    "bad hidden-stats duration": ("soundcloud_artists", {"artists": "a"},
                                  {"SOUNDCLOUD_RECRAWL_HIDDEN_STATS_AFTER": "monthly"},
                                  "bad SOUNDCLOUD_RECRAWL_HIDDEN_STATS_AFTER=monthly: not a duration (give a number "
                                  "and a unit: 7d, 12h, 30m, 45s, 1w, or e.g. 1d12h)"),
    "mysql DATABASE_URL": ("cambridge_mt", {}, {"DATABASE_URL": "mysql://u@db/x"},
                           "unsupported DATABASE_URL scheme 'mysql' (use postgresql:// or sqlite:///)"),
    # Its songs are items of one page, not units that workers could share (README "Distributed mode").
    "cambridge_mt with REDIS_URL": ("cambridge_mt", {}, {"REDIS_URL": "redis://127.0.0.1:6379/7"},
                                    "cambridge_mt cannot share its work between workers yet: run it without "
                                    "REDIS_URL"),
}


@pytest.mark.parametrize("case", list(MISTAKES))
def test_user_mistakes_are_one_line_and_exit_2(case: str, tmp_path: Path) -> None:
    spider, args, settings, message = MISTAKES[case]
    result = run_crawl(spider, tmp_path, args=args, settings=settings)
    assert result.returncode == 2
    assert "Traceback" not in result.log
    errors = [line for line in result.log.splitlines() if "ERROR" in line or "error:" in line]
    assert errors[-1] == f"scrapy crawl: error: {message}"  # stderr, the terminal
    assert errors[0].endswith(f"ERROR: Not crawling: {message}")  # and the log file
    assert len(errors) == 2


def test_unwritable_files_store_is_one_line(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("x")
    result = run_crawl("cambridge_mt", tmp_path, settings={"FILES_STORE": not_a_folder / "files"})
    assert result.returncode == 2 and "Traceback" not in result.log
    assert result.log.splitlines()[-1] == (f"scrapy crawl: error: FILES_STORE '{not_a_folder / 'files'}' "
                                           "is not a writable folder: Not a directory")


@pytest.mark.parametrize(("spider", "setting", "args"), [
    ("soundcloud_artists", "SOUNDCLOUD_URL", {"artists": "nova"}),
    ("cambridge_mt", "CAMBRIDGE_MT_URL", {}),
])
def test_unreachable_site_names_the_setting_and_the_url(tmp_path: Path, spider: str, setting: str,
                                                       args: dict[str, str]) -> None:
    url = f"http://127.0.0.1:{free_port()}/"  # nothing listens there
    result = run_crawl(spider, tmp_path, args=args, settings={
        setting: url, "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", "MEDIA_ENABLED": False,
        "RETRY_BACKOFF_BASE": 0.05})
    assert result.returncode == 1
    assert result.stats["finish_reason"] == "site_unreachable"
    assert f"cannot reach {setting} ({url}): {url} failed: Connection was refused" in result.log
    assert result.log.count("WARNING: No answer from") == 2, "two quick retries, each logged"
    assert "Traceback" not in result.log


def test_unreachable_api_after_the_web_site_answered_names_the_api_setting(tmp_path: Path) -> None:
    """The web site answers (client_id found), api-v2 never does."""
    world = build_world(WorldConfig(artists=3, tracks_per_artist=2, comments_per_track=2))
    dead_api = f"http://127.0.0.1:{free_port()}"
    with SoundCloudReplica(world, Quirks(datadome=False)) as replica:
        result = run_crawl("soundcloud_artists", tmp_path, args={"artists": world.artists[0]["permalink"]},
                           env={"SOUNDCLOUD_URL": replica.urls["web"], "SOUNDCLOUD_API_URL": dead_api},
                           settings={"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3", "MEDIA_ENABLED": False,
                                     "RETRY_BACKOFF_BASE": 0.05})
    assert result.returncode == 1, result.log[-2000:]
    assert result.stats["finish_reason"] == "site_unreachable"
    assert f"cannot reach SOUNDCLOUD_API_URL ({dead_api})" in result.log
    assert "Traceback" not in result.log
