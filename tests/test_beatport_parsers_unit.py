"""Beatport parsers on the real captured page (tests/fixtures/beatport) and on
the replica's catalogue objects (the replica's served pages are checked
against the real one in test_beatport_replica.py)."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest

from replicas.beatport import build_catalogue
from replicas.beatport.world import SEED
from soundscraping.sites import MalformedPage
from soundscraping.sites.beatport.antibot import is_challenge_page
from soundscraping.sites.beatport.parsers import (
    camelot,
    candidate_from_search,
    image_url,
    length_ms,
    missing_fields,
    next_data,
    page_props,
    page_queries,
    search_results,
    slugify,
    track_from_page,
    track_item,
    track_url,
    tracks_from_listing,
)
from tests.fixtures import BEATPORT_TOP100


@cache
def real_page() -> bytes:
    return BEATPORT_TOP100.read_bytes()


def real_track() -> dict[str, Any]:
    return tracks_from_listing(next_data(real_page()))[0]


# -- the real page -------------------------------------------------------------------------

def test_real_top100_envelope() -> None:
    data = next_data(real_page())
    assert data["page"] == "/top-100" and data["buildId"] == "l9SM3rZEoP7PyWHVo7I2W"
    assert data["props"]["__N_SSP"] is True and "anonSession" in page_props(data)
    (query,) = page_queries(data)
    assert query["queryKey"] == ["top-100-tracks-per_page=100"]
    assert query["state"]["data"]["page"] == "1"  # a string, as captured
    assert query["state"]["data"]["next"].endswith("per_page=100&page=2")  # \u0026 decoded
    assert len(tracks_from_listing(data)) == 1


def test_real_track_object_becomes_the_stored_row() -> None:
    track = real_track()
    item = track_item(track, url=track_url("https://www.beatport.com", track["slug"], track["id"]),
                      soundcloud_track_id=42, match_score=0.97, scraped_at="2026-01-25T17:37:17Z")
    assert (item.id, item.url, item.name, item.mix_name) == (
        22236272, "https://www.beatport.com/track/positive/22236272", "Positive", "Extended Mix")
    assert (item.bpm, item.key_name, item.camelot) == (130, "F Major", "7B")
    assert (item.genre, item.sub_genre) == ("Minimal / Deep Tech", "Deep Tech")
    assert (item.publish_date, item.label, item.catalog_number, item.isrc) == (
        "2025-11-07", "CircoLoco Records", "CLR0021BP", "QMFMF2549086")  # the release's label
    assert (item.artists, item.remixers, item.length_ms) == (["Jamback"], [], 361875)
    assert item.waveform_url == ("https://geo-media.beatport.com/image_size/1500x250/"
                                 "52dd0428-f363-429d-9c14-51de91d00104.png")
    assert item.artwork_url == ("https://geo-media.beatport.com/image_size/1400x1400/"
                                "32a7f2ce-b1fe-460f-83b1-f2011fafaed7.jpg")
    assert item.file_urls == [item.waveform_url, item.artwork_url]
    assert (item.soundcloud_track_id, item.match_score) == (42, 0.97)
    assert missing_fields(track) == []


def test_real_page_is_not_a_challenge_and_a_page_without_next_data_is_malformed() -> None:
    assert not is_challenge_page(real_page())
    without = re.sub(rb'<script id="__NEXT_DATA__".*?</script>', b"", real_page(), flags=re.DOTALL)
    with pytest.raises(MalformedPage, match="no __NEXT_DATA__"):
        next_data(without)
    with pytest.raises(MalformedPage, match="unreadable"):
        next_data(real_page().replace(b'"props":{', b'"props":{{', 1))


# -- the replica speaks the same shape ------------------------------------------------------------

def key_shape(obj: Any) -> Any:
    """The nested key structure of a JSON value (lists: their first item)."""
    if isinstance(obj, dict):
        return {k: key_shape(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [key_shape(obj[0])] if obj else []
    return None


def test_replica_v4_track_is_the_real_one() -> None:
    catalogue = build_catalogue()  # not bound: real media URLs
    assert catalogue.v4_track(catalogue.tracks[22236272]) == real_track()


def test_track_from_the_query_when_page_props_lack_it() -> None:
    track = real_track()
    data = {"props": {"pageProps": {"dehydratedState": {"queries": [
        {"state": {"data": {"id": 1}}, "queryKey": ["track-1"]},
        {"state": {"data": track}, "queryKey": [f"track-{track['id']}"]}]}}}}
    assert track_from_page(data, track["id"]) is track
    with pytest.raises(MalformedPage):
        track_from_page(data, 999)


# -- search items and odd values ----------------------------------------------------------------------

def test_search_items_become_candidates() -> None:
    catalogue = build_catalogue()
    cola = catalogue.tracks[20790162]
    item = catalogue.search_item(cola, 3.2)
    c = candidate_from_search(item, rank=2)
    assert c is not None
    assert (c.track_id, c.name, c.mix_name, c.rank) == (20790162, "Cola", "ARTBAT Extended Remix", 2)
    assert c.artists == ("CamelPhat", "Elderbrook") and c.remixers == ("ARTBAT",)  # remixers inside artists
    assert c.length_ms == cola.length_ms and c.label == "Defected"
    assert candidate_from_search({"track_name": "No id"}) is None
    assert candidate_from_search({"track_id": 5, "track_name": "  "}) is None
    assert search_results({"props": {"pageProps": {"dehydratedState": {"queries": [
        {"state": {"data": {"tracks": {"data": []}, "artists": {"data": []}}}}]}}}}) == []
    assert search_results({"props": {"pageProps": {"dehydratedState": {"queries": []}}}}) is None


def test_odd_values() -> None:
    assert length_ms("6:01") == 361000 and length_ms(543453) == 543453 and length_ms("1:02:03") == 3723000
    assert length_ms(None) is None and length_ms("n/a") is None
    assert camelot({"id": 8}) == "8A" and camelot({"id": 23}) == "11B"
    assert camelot({"name": "Gb Minor", "id": 34}) == "11A"
    assert camelot({"camelot_number": 4, "camelot_letter": "b", "id": 16}) == "4B" and camelot(None) is None
    image = {"uri": "/image_size/1400x1400/x.jpg", "dynamic_uri": None}
    assert image_url(image, (1400, 1400), "https://www.beatport.com") == "https://www.beatport.com/image_size/1400x1400/x.jpg"
    track = dict(real_track(), name="Move It ", bpm=None, key=None, isrc=None, sub_genre=None)
    track["release"] = dict(track["release"], image={"id": 1, "uri": None, "dynamic_uri":
                            "https://geo-media.beatport.com/image_size/{w}x{h}/ab2d1d04-233d-4b08-8234-9782b34dcab8.jpg"})
    item = track_item(track, url=None)
    assert item.name == "Move It" and item.bpm is None and item.key_name is None and item.camelot is None
    assert item.artwork_url is None, "the no-artwork placeholder is not the release's artwork"
    assert item.file_urls == [item.waveform_url]
    assert set(missing_fields(track)) == {"bpm", "key", "isrc"}
    with pytest.raises(MalformedPage):
        track_item(dict(real_track(), name=None), url=None)


def test_slugs_of_the_real_chart() -> None:
    """The slug rule reproduces the real slugs of the 2025-09-07 top 100
    (the one name Beatport slugged differently costs a redirect)."""
    different = {row[1] for row in SEED if slugify(row[2]) != row[1]}
    assert different == {"space-pump"}, different
    assert slugify("Can't Resist") == "cant-resist" and slugify("Fancy $hit ") == "fancy-hit"


def test_challenge_page_is_recognised() -> None:
    page = b'<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title></head><body><script>' \
           b"(function(){window._cf_chl_opt={cvId: '3'}})();</script></body></html>"
    assert is_challenge_page(page)
    assert not is_challenge_page(json.dumps({"title": "Just a moment"}).encode())
