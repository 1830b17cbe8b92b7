"""Each item pipeline on its own, as the crawl's settings build it: validate
(bad rows dropped and counted, a page keeps its good rows), dedupe (mini
users never after a full profile), the media path of a stored file, and the
store writing batched upserts into an SQLite file."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.test import get_crawler

from soundscraping.items import CmtMix, InteractionPage, SoundCloudInteraction, SoundCloudTrack, SoundCloudUser
from soundscraping.media.files import MediaFilesPipeline
from soundscraping.pipelines import DedupePipeline, StorePipeline, ValidatePipeline
from tests.utils import project_settings_dict


def crawler(**settings: Any) -> Crawler:
    return get_crawler(settings_dict={**project_settings_dict(), **settings})


def page(*users: SoundCloudUser) -> InteractionPage:
    edges = [SoundCloudInteraction(source_user_id=1, kind="follow", target_user_id=u.id) for u in users]
    return InteractionPage(1, "follow", edges, list(users))


# -- validate ----------------------------------------------------------------------------------

def test_validate_drops_a_row_without_its_key_or_with_a_wrong_type() -> None:
    c = crawler()
    validate = ValidatePipeline.from_crawler(c)
    good = SoundCloudTrack(id=1, likes_count=3, title="Tune")
    assert validate.process_item(good) is good
    with pytest.raises(DropItem, match="missing id"):
        validate.process_item(SoundCloudTrack(id=None))  # type: ignore[arg-type]
    with pytest.raises(DropItem, match="likes_count is not an integer: '12'"):
        validate.process_item(SoundCloudTrack(id=2, likes_count="12"))  # type: ignore[arg-type]
    with pytest.raises(DropItem, match="is not an integer: True"):
        validate.process_item(SoundCloudTrack(id=3, likes_count=True))
    assert c.stats.get_value("soundscraping/dropped/invalid/soundcloud_tracks") == 3


def test_validate_keeps_a_page_and_drops_only_its_bad_rows() -> None:
    c = crawler()
    kept = ValidatePipeline.from_crawler(c).process_item(page(SoundCloudUser(id=5), SoundCloudUser(id="six")))
    assert [u.id for u in kept.users] == [5] and [e.target_user_id for e in kept.interactions] == [5]
    assert c.stats.get_value("soundscraping/dropped/invalid/soundcloud_users") == 1
    assert c.stats.get_value("soundscraping/dropped/invalid/soundcloud_interactions") == 1


# -- dedupe ------------------------------------------------------------------------------------

def test_dedupe_drops_repeats_and_mini_users_after_a_full_profile() -> None:
    c = crawler()
    dedupe = DedupePipeline.from_crawler(c)
    dedupe.process_item(SoundCloudTrack(id=1))
    with pytest.raises(DropItem, match="duplicate soundcloud_tracks"):
        dedupe.process_item(SoundCloudTrack(id=1))
    dedupe.process_item(SoundCloudUser(id=7))  # a mini user first...
    full = SoundCloudUser(id=7, full_profile=True)
    assert dedupe.process_item(full) is full, "...does not hide the full profile met later"
    with pytest.raises(DropItem):
        dedupe.process_item(SoundCloudUser(id=7, full_profile=True))
    with pytest.raises(DropItem):
        dedupe.process_item(SoundCloudUser(id=7))
    later = dedupe.process_item(page(SoundCloudUser(id=7), SoundCloudUser(id=8)))
    assert [u.id for u in later.users] == [8] and len(later.interactions) == 2, "edges are the database's to dedupe"
    assert c.stats.get_value("soundscraping/dropped/duplicate/soundcloud_users") == 3


# -- media -------------------------------------------------------------------------------------

def test_media_files_land_under_their_table_by_url_hash_with_the_files_extension(tmp_path: Path) -> None:
    c = crawler(FILES_STORE=str(tmp_path / "files"))
    media = MediaFilesPipeline.from_crawler(c)
    url = "https://discussion.cambridge-mt.com/attachment.php?aid=1007"
    mix = CmtMix(url=url, pid=9, filename="corine_mix.mp3", file_urls=[url])
    path = media.file_path(Request(url), item=mix)
    assert path == f"cmt_mixes/{hashlib.sha1(url.encode()).hexdigest()}.mp3"
    other_url = url.replace("1007", "1010")
    other = media.file_path(Request(other_url), item=CmtMix(url=other_url, pid=9, filename="corine_mix.mp3"))
    assert other != path, "two mixes of one name stay two files"
    stored = {"url": url, "path": path, "checksum": "abc", "status": "downloaded"}
    done = media.item_completed([(True, stored)], mix, None)
    assert done.files == [stored] and done.stored_path == path
    assert c.stats.get_value("soundscraping/media/stored") == 1


def test_media_pipeline_is_off_without_a_store_or_when_disabled(tmp_path: Path) -> None:
    with pytest.raises(NotConfigured, match="FILES_STORE"):
        MediaFilesPipeline.from_crawler(crawler(FILES_STORE=""))
    with pytest.raises(NotConfigured, match="MEDIA_ENABLED"):
        MediaFilesPipeline.from_crawler(crawler(FILES_STORE=str(tmp_path), MEDIA_ENABLED=False))


# -- store -------------------------------------------------------------------------------------

def test_store_writes_batches_into_sqlite_and_merges_repeats(tmp_path: Path) -> None:
    database = tmp_path / "crawl.sqlite3"
    c = crawler(DATABASE_URL=f"sqlite:///{database}", STORAGE_BATCH_SIZE=2, STORAGE_UNSAVED_DIR=str(tmp_path))
    store = StorePipeline.from_crawler(c)
    items = [SoundCloudUser(id=7, permalink="seven", followers_count=10, full_profile=True),
             SoundCloudTrack(id=1, user_id=7, title="One", likes_count=3),
             SoundCloudTrack(id=2, user_id=7, title="Two"),
             SoundCloudUser(id=7, permalink="seven"),  # a mini user later: the profile stays
             page(SoundCloudUser(id=8, permalink="eight")),
             SoundCloudTrack(id=1, user_id=7, title="One", likes_count=4)]  # a re-crawl's fresher count

    async def crawl() -> None:
        await store.open_spider()
        for item in items:
            await store.process_item(item)
        await store.close_spider()

    asyncio.run(crawl())
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT id, title, likes_count FROM soundcloud_tracks ORDER BY id").fetchall() == [
            (1, "One", 4), (2, "Two", None)]
        assert db.execute("SELECT id, permalink, followers_count FROM soundcloud_users ORDER BY id").fetchall() == [
            (7, "seven", 10), (8, "eight", None)]
        assert db.execute("SELECT source_user_id, kind, target_user_id FROM soundcloud_interactions").fetchall() == [
            (1, "follow", 8)]
    assert c.stats.get_value("soundscraping/stored/soundcloud_tracks") >= 2
    assert not list(tmp_path.glob("*.jsonl")), "nothing unsaved"


def test_store_is_off_when_storage_is_disabled() -> None:
    with pytest.raises(NotConfigured):
        StorePipeline.from_crawler(crawler(STORAGE_ENABLED=False))
