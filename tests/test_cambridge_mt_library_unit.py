"""cambridge_mt's callback on the library page saved from the replica (no real
recording of the page is kept; tests/fixtures/README.md): one CmtSong per
song, with the files each download mode keeps, and a page it does not
recognise is an error in the log, not an empty crawl."""

from __future__ import annotations

import pytest

from soundscraping.items import CmtSong
from soundscraping.spiders.cambridge_mt import CambridgeMtSpider
from tests.utils import fake_response, items_of, make_spider, requests_of, start_requests_of

URL = "https://www.cambridge-mt.com/ms3/mtk/"
LIBRARY = "cambridge_mt/replica_library_page.html"


def test_start_asks_for_the_library_page_and_refuses_an_unknown_mode() -> None:
    s = make_spider(CambridgeMtSpider, {"CAMBRIDGE_MT_URL": URL})
    (first,) = start_requests_of(s)
    assert first.url == URL and first.callback == s.parse_library and first.dont_filter
    with pytest.raises(ValueError, match="bad -a download=everything: must be one of none, previews, all"):
        make_spider(CambridgeMtSpider, download="everything")


def songs(download: str) -> tuple[CambridgeMtSpider, dict[str, CmtSong]]:
    s = make_spider(CambridgeMtSpider, download=download)
    out = list(s.parse_library(fake_response(LIBRARY, URL)))
    assert requests_of(out) == [], "one page holds the whole library"
    return s, {song.title: song for song in items_of(out, CmtSong)}


def test_every_song_of_the_page_with_its_previews() -> None:
    s, by_title = songs("previews")
    assert len(by_title) == 12
    riesling = by_title["Riesling"]
    assert riesling.artist == "J P Lantieri" and len(riesling.multitrack_urls) == 2, "both parts of the ZIP"
    assert riesling.file_urls == [u for u in (riesling.full_preview_url, riesling.excerpt_preview_url,
                                              riesling.unmastered_wav_url) if u]
    assert all(u.endswith((".mp3", ".wav")) for song in by_title.values() for u in song.file_urls)
    stats = s.crawler.stats
    assert stats.get_value("soundscraping/cmt/multi_part") == 1
    assert stats.get_value("soundscraping/cmt/no_multitrack") == 1  # Wesley Morgan: 'Poor Boy'
    assert stats.get_value("soundscraping/cmt/external_download") == 4


def test_download_all_adds_every_zip_part_and_records_web_pages_only() -> None:
    s, by_title = songs("all")
    riesling = by_title["Riesling"]
    assert set(riesling.multitrack_urls) <= set(riesling.file_urls) and len(set(riesling.file_urls)) == len(
        riesling.file_urls), "every part once"
    registration = by_title["Cog In The Machine"]
    assert registration.registration_required and not set(registration.multitrack_urls) & set(registration.file_urls)
    assert s.crawler.stats.get_value("soundscraping/cmt/not_a_file") >= 1


def test_download_none_keeps_the_rows_without_files() -> None:
    _, by_title = songs("none")
    assert len(by_title) == 12 and all(song.file_urls == [] for song in by_title.values())


def test_a_page_that_is_not_the_library_is_an_error(caplog: pytest.LogCaptureFixture) -> None:
    s = make_spider(CambridgeMtSpider)
    page = "cambridge_mt/discussion_forumdisplay_fid6_RockPunkMetal_2024-03-19.html"
    assert list(s.parse_library(fake_response(page, URL))) == []
    assert s.crawler.stats.get_value("soundscraping/skipped/library_page") == 1
    assert "was not recognised" in caplog.text
