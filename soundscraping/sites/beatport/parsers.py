"""Beatport extraction from the Next.js pages' ``__NEXT_DATA__`` JSON.

Every www.beatport.com page carries ``<script id="__NEXT_DATA__"
type="application/json">`` with React-Query's dehydrated state; the objects in
it are the v4 API's (track pages: ``props.pageProps.track``; searches: the
search service's prefixed fields).  Only the JSON is read: the rendered HTML's
class names change with every build.  See shared/reference/beatport.md §3.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any
from urllib.parse import urljoin

from soundscraping.items import BeatportTrack
from soundscraping.sites import MalformedPage, sent_as_null
from soundscraping.sites.beatport.matching import Candidate

_NEXT_DATA = re.compile(
    rb"<script\b[^>]*\bid=[\"']__NEXT_DATA__[\"'][^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)
# Release artwork Beatport shows when a release has none.
PLACEHOLDER_IMAGE = "ab2d1d04-233d-4b08-8234-9782b34dcab8"
WAVEFORM_SIZE = (1500, 250)
ARTWORK_SIZE = (1400, 1400)
# Camelot wheel positions of Beatport's key ids beyond 1-24 (enharmonic aliases).
_KEY_ALIASES = {"Gb Minor": "11A", "F# Minor": "11A", "C# Minor": "12A", "G# Minor": "1A", "D# Minor": "2A",
                "A# Minor": "3A", "F# Major": "2B", "Gb Major": "2B", "C# Major": "3B", "G# Major": "4B",
                "D# Major": "5B", "A# Major": "6B"}


def next_data(body: bytes | str) -> dict[str, Any]:
    """The page's ``__NEXT_DATA__`` object; MalformedPage when the page has
    none (a changed page shape, a challenge page) or it does not parse."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    match = _NEXT_DATA.search(raw)
    if not match:
        raise MalformedPage("no __NEXT_DATA__ script in page")
    try:
        data = json.loads(match.group(1))
    except ValueError as exc:
        raise MalformedPage(f"unreadable __NEXT_DATA__: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("props"), dict):
        raise MalformedPage("__NEXT_DATA__ has no props")
    return data


def page_props(data: dict[str, Any]) -> dict[str, Any]:
    props = data.get("props", {}).get("pageProps")
    if not isinstance(props, dict):
        raise MalformedPage("__NEXT_DATA__ has no props.pageProps")
    return props


def page_queries(data: dict[str, Any]) -> list[dict[str, Any]]:
    """React-Query's dehydrated queries (``pageProps.dehydratedState.queries``)."""
    state = page_props(data).get("dehydratedState")
    queries = state.get("queries") if isinstance(state, dict) else None
    return [q for q in queries if isinstance(q, dict)] if isinstance(queries, list) else []


def _query_data(query: dict[str, Any]) -> Any:
    state = query.get("state")
    return state.get("data") if isinstance(state, dict) else None


def _query_name(query: dict[str, Any]) -> str:
    key = query.get("queryKey")
    return str(key[0]) if isinstance(key, list) and key else ""


def track_from_page(data: dict[str, Any], track_id: int | None = None) -> dict[str, Any]:
    """The v4 track of a track page: ``pageProps.track``, else the query
    keyed ``track-<id>``."""
    track = page_props(data).get("track")
    if isinstance(track, dict) and (track_id is None or track.get("id") == track_id):
        return track
    for query in page_queries(data):
        name, obj = _query_name(query), _query_data(query)
        if name.startswith("track-") and isinstance(obj, dict) and obj.get("id") is not None:
            if track_id is None or obj.get("id") == track_id:
                return obj
    raise MalformedPage(f"no track{f' {track_id}' if track_id else ''} in __NEXT_DATA__")


def tracks_from_listing(data: dict[str, Any]) -> list[dict[str, Any]]:
    """v4 tracks of a list page (top 100, label, artist, release tracks):
    ``results`` of the queries that hold a paged list."""
    tracks: list[dict[str, Any]] = []
    for query in page_queries(data):
        obj = _query_data(query)
        if isinstance(obj, dict) and isinstance(obj.get("results"), list):
            tracks += [t for t in obj["results"] if isinstance(t, dict)]
    return tracks


def search_results(data: dict[str, Any]) -> list[dict[str, Any]] | None:
    """Search-service track items of a search page, best first: the
    ``tracks.data`` bucket of ``/search`` or the ``data`` of ``/search/tracks``.
    An empty list is an empty search; None means no search payload at all."""
    found = False
    for query in page_queries(data):
        obj = _query_data(query)
        if not isinstance(obj, dict):
            continue
        bucket = obj.get("tracks")
        items = bucket.get("data") if isinstance(bucket, dict) else obj.get("data")
        if isinstance(items, list):
            found = True
            if items:
                return [i for i in items if isinstance(i, dict)]
    return [] if found else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def length_ms(value: Any) -> int | None:
    """Milliseconds from the search service's ``length`` (ms) or "6:01"."""
    if (ms := _int(value)) is not None:
        return ms
    if isinstance(value, str) and (m := re.fullmatch(r"(?:(\d+):)?(\d+):(\d{2})", value.strip())):
        hours, minutes, seconds = (int(x) if x else 0 for x in m.groups())
        return ((hours * 60 + minutes) * 60 + seconds) * 1000
    return None


def candidate_from_search(item: dict[str, Any], rank: int = 0) -> Candidate | None:
    """A search item as a match candidate; None when it lacks an id or name.
    Remixers sit inside ``artists`` with ``artist_type_name`` "Remixer"."""
    track_id, name = _int(item.get("track_id")), item.get("track_name")
    if track_id is None or not isinstance(name, str) or not name.strip():
        return None
    artists, remixers = [], []
    for artist in item.get("artists") or []:
        if not isinstance(artist, dict) or not isinstance(artist.get("artist_name"), str):
            continue
        kind = str(artist.get("artist_type_name") or "Artist").lower()
        (remixers if kind == "remixer" else artists).append(artist["artist_name"])
    label = item.get("label")
    return Candidate(
        track_id=track_id, name=name, mix_name=item.get("mix_name") if isinstance(item.get("mix_name"), str) else None,
        artists=tuple(artists), remixers=tuple(remixers), length_ms=length_ms(item.get("length")),
        label=label.get("label_name") if isinstance(label, dict) else None, rank=rank,
    )


def slugify(name: str) -> str:
    """Beatport's slug for a name: "Can't Resist" -> "cant-resist",
    "Fancy $hit" -> "fancy-hit", "Baianá" -> "baiana".  A wrong slug costs
    one redirect: track pages are found by id."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[^a-z0-9\s-]", "", text)  # punctuation goes: "BLOND:ISH" -> "blondish"
    return re.sub(r"[\s-]+", "-", text).strip("-") or "-"


def track_url(base_url: str, slug: str, track_id: int) -> str:
    return f"{base_url.rstrip('/')}/track/{slug or '-'}/{track_id}"


def image_url(image: Any, size: tuple[int, int], base_url: str | None = None) -> str | None:
    """An image at a given size: ``dynamic_uri`` with ``{w}x{h}`` filled in,
    else ``uri`` (made absolute: one capture had a relative one)."""
    if not isinstance(image, dict):
        return None
    dynamic, uri = image.get("dynamic_uri"), image.get("uri")
    if isinstance(dynamic, str) and "{w}" in dynamic and "{h}" in dynamic:
        url = dynamic.replace("{w}", str(size[0])).replace("{h}", str(size[1]))
    elif isinstance(uri, str) and uri:
        url = uri
    else:
        return None
    return _absolute(url, base_url)


def _absolute(url: str, base_url: str | None) -> str:
    return urljoin(base_url, url) if base_url and not url.startswith(("http://", "https://")) else url


def _sample_url(value: Any, base_url: str | None) -> str | None:
    """The preview MP3's URL (absolute), or None when the track has none."""
    if not isinstance(value, str) or not value.strip():
        return None
    return _absolute(value.strip(), base_url)


def camelot(key: Any) -> str | None:
    """"8A"-style Camelot position of a v4 key: its camelot fields, else the
    key id (1-12 minor = {id}A, 13-24 major = {id-12}B), else the name."""
    if not isinstance(key, dict):
        return None
    number, letter = _int(key.get("camelot_number")), key.get("camelot_letter")
    if number and isinstance(letter, str) and letter.upper() in ("A", "B"):
        return f"{number}{letter.upper()}"
    key_id = _int(key.get("id"))
    if key_id and 1 <= key_id <= 12:
        return f"{key_id}A"
    if key_id and 13 <= key_id <= 24:
        return f"{key_id - 12}B"
    return _KEY_ALIASES.get(str(key.get("name") or ""))


def _name(obj: Any) -> str | None:
    value = obj.get("name") if isinstance(obj, dict) else None
    return value.strip() if isinstance(value, str) and value.strip() else None


def _names(objs: Any) -> list[str]:
    return [n for n in (_name(o) for o in (objs if isinstance(objs, list) else [])) if n]


def _date(value: Any) -> str | None:
    if isinstance(value, str) and re.match(r"\d{4}-\d{2}-\d{2}", value):
        return value[:10]
    return None


# Fields whose absence is counted (the row is still stored, with NULLs).
# v4 keys Beatport sends as null on some releases (no tempo or key given).
SITE_NULLABLE = {"bpm": "bpm", "key": "key_name"}
EXPECTED_FIELDS = ("bpm", "key", "genre", "publish_date", "release", "isrc", "image", "length_ms")


def missing_fields(track: dict[str, Any]) -> list[str]:
    return [f for f in EXPECTED_FIELDS if track.get(f) in (None, "", {}, [])]


def track_item(track: dict[str, Any], *, url: str | None, base_url: str | None = None,
               soundcloud_track_id: int | None = None, match_score: float | None = None,
               scraped_at: str | None = None) -> BeatportTrack:
    """A ``beatport_tracks`` row from a v4 track object.  The label is the
    release's (tracks have no label field); the waveform is the track's
    ``image`` (1500×250 PNG), the artwork the release's image (1400×1400)."""
    track_id = _int(track.get("id"))
    name = track.get("name")
    if track_id is None or not isinstance(name, str) or not name.strip():
        raise MalformedPage("track without id or name")
    release = track.get("release") if isinstance(track.get("release"), dict) else {}
    key = track.get("key")
    waveform = image_url(track.get("image"), WAVEFORM_SIZE, base_url)
    artwork = image_url(release.get("image"), ARTWORK_SIZE, base_url)
    if artwork and PLACEHOLDER_IMAGE in artwork:
        artwork = None  # "no artwork" placeholder, not the release's picture
    bpm = track.get("bpm")
    mix = track.get("mix_name")
    item = BeatportTrack(
        id=track_id, soundcloud_track_id=soundcloud_track_id, url=url,
        name=name.strip(), mix_name=mix.strip() if isinstance(mix, str) and mix.strip() else None,
        bpm=round(bpm) if isinstance(bpm, int | float) and not isinstance(bpm, bool) and bpm > 0 else None,
        key_name=_name(key), camelot=camelot(key),
        genre=_name(track.get("genre")), sub_genre=_name(track.get("sub_genre")),
        publish_date=_date(track.get("publish_date")) or _date(track.get("new_release_date")),
        label=_name(release.get("label")),
        catalog_number=(track.get("catalog_number") or None) if isinstance(track.get("catalog_number"), str) else None,
        isrc=(track.get("isrc") or None) if isinstance(track.get("isrc"), str) else None,
        artists=_names(track.get("artists")), remixers=_names(track.get("remixers")),
        length_ms=length_ms(track.get("length_ms")) or length_ms(track.get("length")),
        waveform_url=waveform, artwork_url=artwork, match_score=match_score, scraped_at=scraped_at,
        sample_url=_sample_url(track.get("sample_url"), base_url),
        sample_start_ms=_int(track.get("sample_start_ms")), sample_end_ms=_int(track.get("sample_end_ms")),
        site_nulls=sent_as_null(track, SITE_NULLABLE),
    )
    item.file_urls = [u for u in (waveform, artwork) if u]
    return item
