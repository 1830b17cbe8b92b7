"""``scrapy crawl cambridge_mt [-a download=none|previews|all]``: every song of
the Cambridge-MT "Mixing Secrets" multitrack library (one page,
``CAMBRIDGE_MT_URL``) into ``cmt_songs``, with its files:

* ``none`` — rows only;
* ``previews`` (default) — the full/excerpt preview MP3s and the unmastered
  WAV;
* ``all`` — the previews plus every multitrack ZIP (every part) and excerpt
  ZIP.  ZIPs (and WAVs) are streamed to FILES_STORE by
  ``soundscraping.media.streaming.StreamingFilesPipeline``; links that are web pages
  (registration-only or archive.org pages) are recorded, not downloaded.

A song (its row and files) is the unit of work: recorded finished in
``crawl_units`` once through the pipelines; ``-a recrawl_after=30d`` skips
the songs finished less than that ago (their files are not checked again),
and a killed job resumed with the same ``JOBDIR`` skips those it finished.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

from scrapy import Request
from scrapy.http import Response

from soundscraping.items import CmtSong
from soundscraping.sites import MalformedPage
from soundscraping.sites.cambridge_mt.library import parse_library
from soundscraping.sites.cambridge_mt.urls import is_file_url
from soundscraping.spider_args import Arg, ArgSpec, one_of
from soundscraping.spiders.base import SoundscrapingSpider
from soundscraping.timestamps import utc_now
from soundscraping.units import UnitTracker, load_finished

DOWNLOAD_MODES = ("none", "previews", "all")


class CambridgeMtSpider(SoundscrapingSpider):
    name = "cambridge_mt"

    arguments = ArgSpec((Arg("download", "|".join(DOWNLOAD_MODES), one_of(*DOWNLOAD_MODES), "previews"),))
    download: str

    async def start(self) -> AsyncIterator[Any]:
        url = self.settings.get("CAMBRIDGE_MT_URL")
        self.logger.info("Reading the multitrack library at %s (downloads: %s)", url, self.download)
        self.finished_songs = await asyncio.to_thread(load_finished, self.crawler, self.name, self.recrawl_after)
        yield Request(url, callback=self.parse_library, errback=self.on_request_error, dont_filter=True)

    def parse_library(self, response: Response) -> Iterator[Any]:
        try:
            songs = parse_library(response.text, response.url,
                                  own_hosts=self.settings.getlist("CAMBRIDGE_MT_FILE_HOSTS"), scraped_at=utc_now())
        except MalformedPage as exc:
            self.count("soundscraping/skipped/library_page")
            self.logger.error("The library page at %s was not recognised: %s", response.url, exc)
            return
        if not songs:
            self.logger.error("The library page at %s lists no songs", response.url)
        self.logger.info("Library: %d songs", len(songs))
        done = getattr(self, "finished_songs", set())
        units = UnitTracker.for_crawler(self.crawler)
        for song in songs:
            unit = song_unit(song)
            if unit in done:
                self.count("soundscraping/units/skipped")
                continue
            song.file_urls = self.files_of(song)
            self._count_kinds(song)
            units.item_sent(unit, song)  # finished once the song and its files are stored
            yield song

    def files_of(self, song: CmtSong) -> list[str]:
        """The files to keep for ``song`` in this download mode."""
        if self.download == "none":
            return []
        urls = [u for u in (song.full_preview_url, song.excerpt_preview_url, song.unmastered_wav_url) if u]
        if self.download == "all":
            for url in song.multitrack_urls + song.excerpt_urls:
                if is_file_url(url):
                    urls.append(url)
                else:
                    self.count("soundscraping/cmt/not_a_file")
                    self.logger.info("Not downloadable (a web page%s): %s for %s: '%s'",
                                     ", registration required" if song.registration_required else "", url,
                                     song.artist, song.title)
        return list(dict.fromkeys(urls))

    def _count_kinds(self, song: CmtSong) -> None:
        if song.external_download:
            self.count("soundscraping/cmt/external_download")
        if len(song.multitrack_urls) > 1:
            self.count("soundscraping/cmt/multi_part")
        if not song.multitrack_urls and not song.excerpt_urls:
            self.count("soundscraping/cmt/no_multitrack")


def song_unit(song: CmtSong) -> str:
    """A song's unit name (its key: artist and title)."""
    return f"{song.artist} - {song.title}"
