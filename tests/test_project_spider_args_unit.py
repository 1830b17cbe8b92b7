"""Spider arguments parsed in one place (spider_args): values, defaults,
Scrapyd's _job, and the one-line errors, without starting a crawl."""

from __future__ import annotations

from pathlib import Path

import pytest

from soundscraping.spider_args import SpiderArgumentError
from soundscraping.spiders.beatport_tracks import BeatportTracksSpider
from soundscraping.spiders.cambridge_forum import CambridgeForumSpider
from soundscraping.spiders.soundcloud_artists import SoundCloudArtistsSpider
from soundscraping.spiders.soundcloud_graph import SoundCloudGraphSpider


def test_each_spider_declares_its_arguments_once() -> None:
    values = SoundCloudGraphSpider.parse_arguments({"seeds": "a, b,a", "max_accounts": "12", "_job": "j1"})
    assert values == {"seeds": ["a", "b"], "seeds_file": [], "max_accounts": 12, "min_followers": 250,
                      "per_kind_limit": 500, "recrawl_after": None}
    spider = SoundCloudArtistsSpider(artists="x,y", _job="6487ec7")  # Scrapyd's job id is accepted
    assert spider.artist_refs == ["x", "y"] and spider._job == "6487ec7"
    assert CambridgeForumSpider(forums="12;7").fids == [12, 7]
    assert BeatportTracksSpider(track_ids="3 4", limit="2").track_ids == [3, 4]
    with pytest.raises(SpiderArgumentError, match=r"beatport_tracks has no argument 'tracks' "
                                                  r"\(valid arguments: track_ids, query, limit, previews, "
                                                  r"recrawl_after\)"):
        BeatportTracksSpider(tracks="1")
    with pytest.raises(SpiderArgumentError, match="must be at least 1"):
        BeatportTracksSpider(limit="0")
    assert BeatportTracksSpider(previews="True").previews is True
    assert BeatportTracksSpider(previews="no").previews is BeatportTracksSpider().previews is False
    with pytest.raises(SpiderArgumentError, match=r"beatport_tracks: bad -a previews=maybe: must be true or false"):
        BeatportTracksSpider(previews="maybe")


def test_artists_file_lines_and_comments(tmp_path: Path) -> None:
    listing = tmp_path / "artists.txt"
    listing.write_text("# my artists\nnova\n\n  Solar Drift \nnova\n", encoding="utf-8")
    assert SoundCloudArtistsSpider(artists="first", artists_file=str(listing)).artist_refs == [
        "first", "nova", "Solar Drift"]
    listing.write_text("# nobody yet\n", encoding="utf-8")
    with pytest.raises(SpiderArgumentError, match="nothing to crawl"):
        SoundCloudArtistsSpider(artists_file=str(listing))
