"""Parser tests for soundscraping.sites.soundcloud.parsers, fed real recorded
SoundCloud responses kept in tests/fixtures/soundcloud/ (origins in
tests/fixtures/README.md).  Expected values were read from those files.

One fact per test.
"""

from __future__ import annotations

import pytest

from soundscraping import settings
from soundscraping.items import SoundCloudComment, SoundCloudTrack, SoundCloudUser
from soundscraping.sites import MalformedPage
from soundscraping.sites.soundcloud.parsers import (
    DjSetRule,
    asset_script_urls,
    banner_url,
    classify_artist_ref,
    client_id_from_home,
    client_id_from_script,
    embedded_user,
    hydration_data,
    image_variant,
    is_full_user,
    parse_collection_page,
    parse_comment_json,
    parse_hydration,
    parse_object,
    parse_track_json,
    parse_user_json,
    permalink_from_url,
    pick_user_by_name,
)
from tests.fixtures import exchange, html_page, response_body, response_json

# --- recorded files (paths under tests/fixtures/soundcloud/newpipe-mocks/) --------------------

HOME = "soundcloudcommentsextractor/trackwithcomments/generated_mock_0.json"
ASSET_54 = "soundcloudcommentsextractor/trackwithcomments/generated_mock_1.json"
COMMENTS = "soundcloudcommentsextractor/trackwithcomments/generated_mock_4.json"
NO_COMMENTS = "soundcloudcommentsextractor/trackwithnocomments/generated_mock_4.json"
DUBMATIX = "soundcloudchannelextractor/dubmatix/generated_mock_4.json"
TRACKS_P1 = "soundcloudchanneltabextractor/tracks/generated_mock_1.json"
TRACKS_P2 = "soundcloudchanneltabextractor/tracks/generated_mock_2.json"
SHORT_P1 = "soundcloudchanneltabextractor/noemptynextpages/generated_mock_1.json"
EMPTY_PAGE = "soundcloudchanneltabextractor/noemptynextpages/generated_mock_2.json"
SHORT_P4 = "soundcloudchanneltabextractor/noemptynextpages/generated_mock_4.json"
SHORT_P13 = "soundcloudchanneltabextractor/noemptynextpages/generated_mock_13.json"
LIKES_P1 = "soundcloudchanneltabextractor/likesonlytracks/generated_mock_1.json"
LIKES_P2 = "soundcloudchanneltabextractor/likesonlytracks/generated_mock_2.json"
ALBUMS_LAST = "soundcloudchanneltabextractor/albums/generated_mock_2.json"
FOLLOWINGS_ONE = "soundcloudsubscriptionextractor/generated_mock_14.json"
RESOLVE_404 = "soundcloudsubscriptionextractor/generated_mock_15.json"
CHARTS_404 = "soundcloudchartsextractor/newandhot/generated_mock_0.json"
SEARCH_USERS_P1 = "search/soundcloudsearchextractor/users/generated_mock_0.json"
SEARCH_USERS_P2 = "search/soundcloudsearchextractor/users/generated_mock_1.json"
SEARCH_LAST = "search/soundcloudsearchextractor/nonextpage/generated_mock_0.json"
RELATED_EMPTY = "soundcloudstreamextractor/creativecommonsopenmindsep21/generated_mock_3.json"
RESOLVE_TRACK = "soundcloudstreamextractor/smalltrackid/generated_mock_2.json"
GEO_BLOCKED = "soundcloudstreamextractor/soundcloudgeorestrictedtrack/generated_mock_2.json"
TRACKS_BY_IDS = "soundcloudplaylistextractor/luvtape/generated_mock_3.json"

# --- saved soundcloud.com pages (under soundcloud/html-pages/) -----------------

TRACK_PAGE_2024 = "soundcloud.com.zedsdead-zeds-dead-twin-shadow-lost-you-feat-dangelo-lacy.html"
PROFILE_PAGE_2021 = "soundcloud.com.bruceneilmusic.html"
TRACK_PAGE_2021 = "soundcloud.com.ididthat-1-lowe-ct-cape-times-world-cup.html"

CLIENT_ID = "CkCiIyf14rHi27fhk7HxhPOzc85okfSJ"

# The rule as a crawl builds it from the project's default settings.
RULE = DjSetRule(
    min_minutes=settings.SOUNDCLOUD_DJ_SET_MIN_MINUTES,
    keyword_min_minutes=settings.SOUNDCLOUD_DJ_SET_KEYWORD_MIN_MINUTES,
    keywords=tuple(settings.SOUNDCLOUD_DJ_SET_KEYWORDS),
)


def minutes(n: float) -> int:
    return int(n * 60_000)


def page_track(relpath: str, track_id: int) -> dict:
    """A track dict (fresh copy) from a recorded tracks page."""
    for track in response_json(relpath)["collection"]:
        if track["id"] == track_id:
            return track
    raise AssertionError(f"track {track_id} not in {relpath}")


def liked_track(relpath: str, track_id: int) -> dict:
    """A track dict (fresh copy) from a recorded likes page."""
    for like in response_json(relpath)["collection"]:
        if like.get("track", {}).get("id") == track_id:
            return like["track"]
    raise AssertionError(f"liked track {track_id} not in {relpath}")


def album_track(track_id: int) -> dict:
    for track in response_json(ALBUMS_LAST)["collection"][0]["tracks"]:
        if track["id"] == track_id:
            return track
    raise AssertionError(f"track {track_id} not in {ALBUMS_LAST}")


def first_track() -> dict:
    """'What You Saying' by Lil Uzi Vert, first item of /users/10494998/tracks."""
    return page_track(TRACKS_P1, 2234866769)


def first_comment() -> dict:
    return response_json(COMMENTS)["collection"][0]


# === client_id discovery: home page and asset scripts ===========================

def test_client_id_from_home_reads_api_client_hydration():
    assert client_id_from_home(response_body(HOME)) == CLIENT_ID


def test_client_id_from_home_is_none_for_old_page_without_hydration():
    assert client_id_from_home(html_page(PROFILE_PAGE_2021)) is None


def test_client_id_from_home_is_none_when_hydration_has_no_api_client():
    # The 2024 track page has __sc_hydration but no apiClient entry.
    assert client_id_from_home(html_page(TRACK_PAGE_2024)) is None


def test_asset_script_urls_lists_web_app_chunks_in_page_order():
    assert asset_script_urls(response_body(HOME)) == [
        "https://a-v2.sndcdn.com/assets/58-66de8ddd.js",
        "https://a-v2.sndcdn.com/assets/56-3349b1fb.js",
        "https://a-v2.sndcdn.com/assets/18-67534bfd.js",
        "https://a-v2.sndcdn.com/assets/57-1a757b2e.js",
        "https://a-v2.sndcdn.com/assets/2-bdf5b751.js",
        "https://a-v2.sndcdn.com/assets/0-bbe7173d.js",
        "https://a-v2.sndcdn.com/assets/1-11c24f72.js",
        "https://a-v2.sndcdn.com/assets/55-c6a58cf4.js",
        "https://a-v2.sndcdn.com/assets/54-a4b72eca.js",
    ]


def test_asset_script_urls_skip_tracking_script():
    html = response_body(HOME)
    assert "https://dwt.soundcloud.com/tags.js" in html
    assert not any("dwt.soundcloud.com" in url for url in asset_script_urls(html))


def test_asset_script_urls_skip_cookie_consent_script():
    html = response_body(HOME)
    assert "cdn.cookielaw.org" in html
    assert not any("cookielaw" in url for url in asset_script_urls(html))


def test_last_asset_script_is_the_chunk_holding_the_client_id():
    last = asset_script_urls(response_body(HOME))[-1]
    assert last == exchange(ASSET_54)["request"]["url"]


def test_client_id_from_script_reads_206_range_of_last_chunk():
    assert exchange(ASSET_54)["response"]["responseCode"] == 206
    assert client_id_from_script(response_body(ASSET_54)) == CLIENT_ID


def test_client_id_from_script_is_none_without_config_literal():
    assert client_id_from_script(response_body(HOME)) is None


# === web pages: __sc_hydration ===================================================

def test_parse_hydration_lists_track_page_entries():
    kinds = [entry["hydratable"] for entry in parse_hydration(html_page(TRACK_PAGE_2024))]
    assert kinds == [
        "anonymousId", "features", "experiments", "geoip",
        "privacySettings", "trackingBrowserTabId", "user", "sound",
    ]


def test_hydration_data_sound_has_track_title():
    sound = hydration_data(html_page(TRACK_PAGE_2024), "sound")
    assert sound["title"] == "Zeds Dead feat. Twin Shadow & D'Angelo Lacy - Lost You"


def test_hydration_data_user_is_track_owner():
    user = hydration_data(html_page(TRACK_PAGE_2024), "user")
    assert (user["id"], user["permalink"]) == (305413, "zedsdead")


def test_hydration_data_is_none_for_absent_entry_type():
    assert hydration_data(html_page(TRACK_PAGE_2024), "playlist") is None


def test_parse_hydration_raises_on_2021_profile_page():
    with pytest.raises(MalformedPage):
        parse_hydration(html_page(PROFILE_PAGE_2021))


def test_parse_hydration_raises_on_2021_track_page():
    with pytest.raises(MalformedPage):
        parse_hydration(html_page(TRACK_PAGE_2021))


def test_parse_hydration_raises_on_truncated_page():
    html = html_page(TRACK_PAGE_2024)
    cut = html.index("window.__sc_hydration") + 200
    with pytest.raises(MalformedPage):
        parse_hydration(html[:cut])


def test_track_page_sound_parses_to_track_item():
    sound = hydration_data(html_page(TRACK_PAGE_2024), "sound")
    item = parse_track_json(sound, RULE)
    assert (item.id, item.user_id, item.duration_ms) == (150745932, 305413, 218358)


def test_track_page_sound_counts():
    item = parse_track_json(hydration_data(html_page(TRACK_PAGE_2024), "sound"), RULE)
    assert (item.likes_count, item.playback_count) == (150591, 10116117)


def test_track_page_owner_is_full_profile_with_banner():
    item = parse_user_json(hydration_data(html_page(TRACK_PAGE_2024), "user"))
    assert item.full_profile is True
    assert item.banner_url == "https://i1.sndcdn.com/visuals-000000305413-sd0O3y-original.jpg"


# === api-v2 collection pages =======================================================

def test_tracks_page_1_has_20_tracks():
    assert len(parse_collection_page(response_body(TRACKS_P1)).collection) == 20


def test_tracks_page_1_next_href_is_recorded_cursor_without_client_id():
    assert parse_collection_page(response_body(TRACKS_P1)).next_href == (
        "https://api-v2.soundcloud.com/users/10494998/tracks"
        "?offset=2024-11-01T04%3A00%3A00.000Z%2Ctracks%2C00000000002160462036&limit=20"
    )


def test_tracks_page_2_has_20_tracks():
    assert len(parse_collection_page(response_body(TRACKS_P2)).collection) == 20


def test_tracks_page_2_next_href_is_recorded_cursor():
    assert parse_collection_page(response_body(TRACKS_P2)).next_href == (
        "https://api-v2.soundcloud.com/users/10494998/tracks"
        "?offset=2023-12-27T17%3A00%3A00.000Z%2Ctracks%2C00000000001700527512&limit=20"
    )


def test_tracks_page_next_href_carries_no_client_id():
    assert "client_id" not in parse_collection_page(response_body(TRACKS_P1)).next_href


def test_collection_page_accepts_bytes_body():
    page = parse_collection_page(response_body(TRACKS_P1).encode("utf-8"))
    assert len(page.collection) == 20


@pytest.mark.parametrize(
    ("relpath", "count", "next_href"),
    [
        (SHORT_P1, 4, "https://api-v2.soundcloud.com/users/73637815/tracks"
                      "?offset=2026-01-27T03%3A47%3A23.000Z%2Ctracks%2C00000000002254889507&limit=20"),
        (SHORT_P4, 2, "https://api-v2.soundcloud.com/users/73637815/tracks"
                      "?offset=2025-11-20T23%3A16%3A28.000Z%2Ctracks%2C00000000002216274407&limit=20"),
        (SHORT_P13, 1, "https://api-v2.soundcloud.com/users/73637815/tracks"
                       "?offset=2025-06-17T22%3A00%3A19.000Z%2Ctracks%2C00000000002115160263&limit=20"),
    ],
    ids=["4-items", "2-items", "1-item"],
)
def test_short_tracks_page_keeps_next_href(relpath, count, next_href):
    page = parse_collection_page(response_body(relpath))
    assert (len(page.collection), page.next_href) == (count, next_href)


def test_empty_tracks_page_has_no_items():
    assert parse_collection_page(response_body(EMPTY_PAGE)).collection == []


def test_empty_tracks_page_still_has_next_href():
    assert parse_collection_page(response_body(EMPTY_PAGE)).next_href == (
        "https://api-v2.soundcloud.com/users/73637815/tracks"
        "?offset=2026-01-20T18%3A40%3A21.000Z%2Ctracks%2C00000000002250998000&limit=20"
    )


def test_likes_page_1_has_19_items():
    assert len(parse_collection_page(response_body(LIKES_P1)).collection) == 19


def test_likes_page_2_has_18_items():
    assert len(parse_collection_page(response_body(LIKES_P2)).collection) == 18


def test_likes_page_next_href_is_recorded_cursor():
    assert parse_collection_page(response_body(LIKES_P1)).next_href == (
        "https://api-v2.soundcloud.com/users/30854092/likes"
        "?offset=2025-11-08T10%3A30%3A30.218Z%2Cuser-track-likes"
        "%2C000-00000000000030854092-00000000002166030600&limit=20"
    )


def test_albums_last_page_next_href_null_is_none():
    assert parse_collection_page(response_body(ALBUMS_LAST)).next_href is None


def test_followings_with_one_user():
    page = parse_collection_page(response_body(FOLLOWINGS_ONE))
    assert ([u["username"] for u in page.collection], page.next_href) == (["J.Fla"], None)


def test_related_empty_page_without_next_href_key_ends_pagination():
    assert "next_href" not in response_json(RELATED_EMPTY)
    page = parse_collection_page(response_body(RELATED_EMPTY))
    assert (page.collection, page.next_href) == ([], None)


def test_collection_page_rejects_404_empty_object():
    assert exchange(CHARTS_404)["response"]["responseCode"] == 404
    with pytest.raises(MalformedPage):
        parse_collection_page(response_body(CHARTS_404))


def test_collection_page_rejects_bare_array_of_tracks():
    # /tracks?ids=… answers a bare JSON array, not an envelope.
    with pytest.raises(MalformedPage):
        parse_collection_page(response_body(TRACKS_BY_IDS))


def test_collection_page_rejects_single_object_without_collection():
    with pytest.raises(MalformedPage):
        parse_collection_page(response_body(DUBMATIX))


def test_collection_page_rejects_envelope_without_collection():
    with pytest.raises(MalformedPage):
        parse_collection_page('{"next_href":null,"query_urn":null}')


def test_collection_page_rejects_truncated_json():
    body = response_body(TRACKS_P1)
    with pytest.raises(MalformedPage):
        parse_collection_page(body[: len(body) // 2])


# === search ==========================================================================

def test_search_users_page_next_href_is_recorded():
    assert parse_collection_page(response_body(SEARCH_USERS_P1)).next_href == (
        "https://api-v2.soundcloud.com/search/users"
        "?query_urn=soundcloud%3Asearch%3Ac85a27806e6846afbf2d07143baa33aa"
        "&limit=10&offset=10&q=lill%20uzi%20vert"
    )


def test_search_users_page_has_10_users():
    assert len(parse_collection_page(response_body(SEARCH_USERS_P1)).collection) == 10


def test_search_last_page_has_no_next_href_key_in_body():
    assert "next_href" not in response_json(SEARCH_LAST)


def test_search_last_page_without_next_href_key_is_none():
    assert parse_collection_page(response_body(SEARCH_LAST)).next_href is None


def test_search_last_page_keeps_its_3_results():
    assert len(parse_collection_page(response_body(SEARCH_LAST)).collection) == 3


def test_pick_user_by_name_picks_most_followed_exact_username():
    users = parse_collection_page(response_body(SEARCH_USERS_P1)).collection
    assert pick_user_by_name(users, "Lil Uzi Vert")["id"] == 10494998


def test_pick_user_by_name_is_case_insensitive():
    users = parse_collection_page(response_body(SEARCH_USERS_P1)).collection
    assert pick_user_by_name(users, "lil uzi vert")["id"] == 10494998


def test_pick_user_by_name_breaks_ties_by_followers():
    # Page 2 has four users named exactly "Lil Uzi Vert" (13, 23, 20 and 38
    # followers) and none of them is the artist.
    users = parse_collection_page(response_body(SEARCH_USERS_P2)).collection
    assert pick_user_by_name(users, "LIL UZI VERT")["id"] == 1091024398


def test_pick_user_by_name_does_not_match_name_prefix():
    users = parse_collection_page(response_body(SEARCH_USERS_P1)).collection
    assert pick_user_by_name(users, "Lil Uz") is None


def test_pick_user_by_name_falls_back_to_full_name():
    # No username or permalink is "Lil Uzi"; user 545717721's full_name is.
    users = parse_collection_page(response_body(SEARCH_USERS_P1)).collection
    assert pick_user_by_name(users, "Lil Uzi")["id"] == 545717721


def test_pick_user_by_name_falls_back_to_permalink():
    users = parse_collection_page(response_body(SEARCH_USERS_P1)).collection
    assert pick_user_by_name(users, "liluzivert")["id"] == 10494998


def test_pick_user_by_name_absent_is_none():
    users = parse_collection_page(response_body(SEARCH_USERS_P1)).collection
    assert pick_user_by_name(users, "dubmatix") is None


def test_pick_user_by_name_on_empty_results_is_none():
    assert pick_user_by_name([], "Lil Uzi Vert") is None


# === single objects =====================================================================

def test_parse_object_reads_user_by_id():
    user = parse_object(response_body(DUBMATIX), kind="user")
    assert (user["id"], user["permalink"]) == (542134, "dubmatix")


def test_parse_object_reads_resolved_track():
    track = parse_object(response_body(RESOLVE_TRACK), kind="track")
    assert (track["id"], track["title"]) == (135535700, "Technicality")


def test_parse_object_rejects_wrong_kind():
    with pytest.raises(MalformedPage):
        parse_object(response_body(DUBMATIX), kind="track")


def test_parse_object_rejects_404_empty_body():
    response = exchange(RESOLVE_404)["response"]
    assert (response["responseCode"], response["responseBody"]) == (404, "{}")
    with pytest.raises(MalformedPage):
        parse_object(response["responseBody"])


def test_parse_object_rejects_truncated_json():
    body = response_body(DUBMATIX)
    with pytest.raises(MalformedPage):
        parse_object(body[: len(body) // 2])


# === tracks ===================================================================================

def test_track_item_type():
    assert isinstance(parse_track_json(first_track(), RULE), SoundCloudTrack)


def test_track_id_and_title():
    item = parse_track_json(first_track(), RULE)
    assert (item.id, item.title) == (2234866769, "What You Saying")


def test_track_user_id():
    assert parse_track_json(first_track(), RULE).user_id == 10494998


def test_track_user_id_from_embedded_user_when_field_missing():
    track = first_track()
    del track["user_id"]
    assert parse_track_json(track, RULE).user_id == 10494998


def test_track_duration_ms():
    assert parse_track_json(first_track(), RULE).duration_ms == 131775


def test_track_counts():
    item = parse_track_json(first_track(), RULE)
    assert (item.likes_count, item.reposts_count, item.playback_count, item.comment_count) == (
        132940, 1428, 5546857, 2673,
    )


def test_track_genre():
    assert parse_track_json(first_track(), RULE).genre == "Hip Hop/Rap"


def test_track_permalink_url():
    assert parse_track_json(first_track(), RULE).permalink_url == (
        "https://soundcloud.com/liluzivert/what-you-saying"
    )


def test_track_created_at_is_the_api_string():
    assert parse_track_json(first_track(), RULE).created_at == "2025-12-23T03:49:53Z"


def test_track_artwork_url_kept_as_found():
    assert parse_track_json(first_track(), RULE).artwork_url == (
        "https://i1.sndcdn.com/artworks-QnrJVUzCxfeA-0-large.png"
    )


def test_track_file_urls_hold_t500x500_artwork_png_and_the_waveform():
    track = first_track()
    assert parse_track_json(track, RULE).file_urls == [
        "https://i1.sndcdn.com/artworks-QnrJVUzCxfeA-0-t500x500.png", track["waveform_url"]
    ]
    assert track["waveform_url"].startswith("https://wave.sndcdn.com/")


def test_track_file_urls_hold_t500x500_artwork_jpg():
    item = parse_track_json(page_track(TRACKS_P1, 2160466275), RULE)  # "We Good"
    assert item.file_urls[0] == "https://i1.sndcdn.com/artworks-Z0niJB6rm5PK-0-t500x500.jpg"


def test_track_without_artwork_or_waveform_has_no_file_urls():
    track = first_track()
    track["artwork_url"] = None
    track["waveform_url"] = None
    item = parse_track_json(track, RULE)
    assert (item.artwork_url, item.file_urls) == (None, [])


def test_track_tag_list_kept_verbatim_with_quoted_tags():
    item = parse_track_json(liked_track(LIKES_P1, 2124963702), RULE)
    assert item.tag_list == '"minimal " "microhouse "'


def test_track_tag_list_kept_verbatim_with_unicode_tags():
    item = parse_track_json(liked_track(LIKES_P1, 2166030600), RULE)
    assert item.tag_list == (
        'Techno tekno mental acid acidcore "l\'art cène" "prince des étoiles" '
        '" أمير النجوم" arab oud Électro electronic "jarring effects"'
    )


def test_track_empty_tag_list_stays_empty_string():
    assert parse_track_json(first_track(), RULE).tag_list == ""


def test_track_scraped_at_passed_through():
    item = parse_track_json(first_track(), RULE, scraped_at="2026-02-21T01:08:10Z")
    assert item.scraped_at == "2026-02-21T01:08:10Z"


def test_track_hidden_stats_are_none_not_zero():
    track = first_track()
    for key in ("likes_count", "reposts_count", "playback_count", "comment_count"):
        track[key] = None
    item = parse_track_json(track, RULE)
    assert (item.likes_count, item.reposts_count, item.playback_count, item.comment_count) == (
        None, None, None, None,
    )


def test_real_track_with_hidden_stats_keeps_nulls_and_zero():
    # "Bjarki - GREEN - 06 Strange Rhythm" was recorded with likes, plays and
    # comments hidden (null) but reposts_count 0.
    item = parse_track_json(liked_track(LIKES_P1, 2220102749), RULE)
    assert (item.likes_count, item.reposts_count, item.playback_count, item.comment_count) == (
        None, 0, None, None,
    )


def test_geo_blocked_track_keeps_metadata_and_counts():
    item = parse_track_json(parse_object(response_body(GEO_BLOCKED), kind="track"), RULE)
    assert (item.id, item.title, item.playback_count) == (621612588, "One Touch", 43373)


def test_tracks_by_ids_bare_array_parses_each_track():
    items = [parse_track_json(t, RULE) for t in response_json(TRACKS_BY_IDS)]
    assert [i.id for i in items] == [276234639, 276234137, 276234413, 276234004, 276234770]


def test_track_without_id_raises():
    track = first_track()
    del track["id"]
    with pytest.raises(MalformedPage):
        parse_track_json(track, RULE)


def test_snipped_track_duration_is_full_length():
    track = album_track(17271444)  # "I Do It", policy SNIP
    assert (track["duration"], track["full_duration"]) == (30000, 215458)
    assert parse_track_json(track, RULE).duration_ms == 215458


def test_snipped_hour_long_upload_is_dj_set():
    track = album_track(17271444)
    track["full_duration"] = minutes(62)  # a Go+ preview of a 62-minute upload
    assert parse_track_json(track, RULE).is_dj_set is True


# === DJ-set rule (default settings) ============================================================

def test_dj_rule_62_minute_upload_is_dj_set():
    assert RULE.matches(minutes(62), "Untitled") is True


def test_dj_rule_4_minute_mix_title_is_not_dj_set():
    assert RULE.matches(minutes(4), "Summer Mix") is False


def test_dj_rule_20_minute_boiler_room_dj_set_is_dj_set():
    assert RULE.matches(minutes(20), "Boiler Room DJ Set") is True


def test_dj_rule_15_minute_remixed_is_not_dj_set():
    # "mix"/"mixed" only count as whole words, not inside "Remixed".
    assert RULE.matches(minutes(15), "Sunrise (Remixed)") is False


def test_dj_rule_15_minute_real_remix_title_is_not_dj_set():
    track = liked_track(LIKES_P1, 2202649351)  # "Seli - Haloclina (Sawyer James Remix)"
    assert RULE.matches(minutes(15), track["title"], track["genre"], track["tag_list"]) is False


def test_dj_rule_15_minute_mix_whole_word_is_dj_set():
    assert RULE.matches(minutes(15), "Summer Mix") is True


def test_dj_rule_keyword_is_case_insensitive():
    assert RULE.matches(minutes(15), "Flaschenpost # 4 - Paqueta [GUEST MIX]") is True


def test_dj_rule_keyword_in_genre_counts():
    assert RULE.matches(minutes(15), "Episode 12", "Podcast") is True


def test_dj_rule_keyword_below_keyword_minimum_is_not_dj_set():
    assert RULE.matches(minutes(11), "Boiler Room DJ Set") is False


def test_dj_rule_exactly_min_minutes_is_dj_set():
    assert RULE.matches(minutes(30), "Untitled") is True


def test_dj_rule_missing_duration_is_not_dj_set():
    assert RULE.matches(None, "Boiler Room DJ Set") is False


def test_track_long_podcast_is_dj_set():
    item = parse_track_json(liked_track(LIKES_P1, 2124963702), RULE)  # 130 minutes
    assert item.is_dj_set is True


def test_track_short_song_is_not_dj_set():
    assert parse_track_json(first_track(), RULE).is_dj_set is False


def test_track_27_minute_upload_without_keyword_is_not_dj_set():
    item = parse_track_json(liked_track(LIKES_P1, 2216488937), RULE)  # "Jowen - Dis-lui"
    assert (item.duration_ms, item.is_dj_set) == (1642806, False)


def test_track_keyword_inside_quoted_tag_marks_20_minute_track():
    track = liked_track(LIKES_P1, 2222684030)  # "REC-002", tags hold "thesis podcast"
    track["duration"] = minutes(20)
    assert parse_track_json(track, RULE).is_dj_set is True


# === comments ===================================================================================

def test_comments_page_has_4_comments():
    assert len(parse_collection_page(response_body(COMMENTS)).collection) == 4


def test_comments_next_href_includes_client_id():
    assert parse_collection_page(response_body(COMMENTS)).next_href == (
        "https://api-v2.soundcloud.com/tracks/1670147625/comments"
        f"?client_id={CLIENT_ID}&offset=10&threaded=0&limit=10"
    )


def test_no_comments_page_is_empty():
    assert parse_collection_page(response_body(NO_COMMENTS)).collection == []


def test_no_comments_page_next_href_is_none():
    assert parse_collection_page(response_body(NO_COMMENTS)).next_href is None


def test_comment_item_type():
    assert isinstance(parse_comment_json(first_comment()), SoundCloudComment)


def test_comment_body_keeps_unicode():
    assert parse_comment_json(first_comment()).body == "Absolute tune 🔥🔥🔥"


def test_comment_timestamp_ms():
    assert parse_comment_json(first_comment()).timestamp_ms == 92600


def test_comment_user_id():
    assert parse_comment_json(first_comment()).user_id == 143469553


def test_comment_track_id():
    assert parse_comment_json(first_comment()).track_id == 1670147625


def test_comment_id_and_created_at():
    item = parse_comment_json(first_comment())
    assert (item.id, item.created_at) == (2198411235, "2024-09-01T17:45:16Z")


def test_comment_null_timestamp_is_none():
    comment = first_comment()
    comment["timestamp"] = None
    assert parse_comment_json(comment).timestamp_ms is None


def test_comment_user_id_from_embedded_user_when_field_missing():
    comment = first_comment()
    del comment["user_id"]
    assert parse_comment_json(comment).user_id == 143469553


def test_comment_without_id_raises():
    comment = first_comment()
    del comment["id"]
    with pytest.raises(MalformedPage):
        parse_comment_json(comment)


# === users ========================================================================================

def dubmatix() -> SoundCloudUser:
    return parse_user_json(response_json(DUBMATIX))


def test_full_user_item_type():
    assert isinstance(dubmatix(), SoundCloudUser)


def test_full_user_is_full_profile():
    assert dubmatix().full_profile is True


def test_full_user_identity():
    item = dubmatix()
    assert (item.id, item.permalink, item.username, item.full_name) == (
        542134, "dubmatix", "dubmatix", "Dub matix",
    )


def test_full_user_banner_is_visuals_url():
    assert dubmatix().banner_url == "https://i1.sndcdn.com/visuals-000000542134-6OBV3D-original.jpg"


def test_full_user_description_keeps_newlines():
    assert dubmatix().description.startswith(
        "FREE 2GB Dubmatix Reggae/Dub Loop Pack\nhttp://reggae-loops.com\n"
        "Buy all releases http://www.dubmatix.bandcamp.com\n\n"
    )


def test_full_user_description_is_complete():
    assert dubmatix().description == response_json(DUBMATIX)["description"]


def test_full_user_followers():
    assert dubmatix().followers_count == 2775276


def test_full_user_followings_and_track_count():
    item = dubmatix()
    assert (item.followings_count, item.track_count) == (66, 292)


def test_full_user_country_and_city():
    item = dubmatix()
    assert (item.country_code, item.city) == ("CA", "Toronto")


def test_full_user_verified_and_created_at():
    item = dubmatix()
    assert (item.verified, item.created_at) == (True, "2010-01-20T11:56:32Z")


def test_full_user_avatar_kept_as_found():
    assert dubmatix().avatar_url == "https://i1.sndcdn.com/avatars-v58A5KC6lmkjFSqL-OPgrwg-large.jpg"


def test_full_user_file_urls_are_t500x500_avatar_and_banner():
    assert dubmatix().file_urls == [
        "https://i1.sndcdn.com/avatars-v58A5KC6lmkjFSqL-OPgrwg-t500x500.jpg",
        "https://i1.sndcdn.com/visuals-000000542134-6OBV3D-original.jpg",
    ]


def test_full_user_scraped_at_passed_through():
    item = parse_user_json(response_json(DUBMATIX), scraped_at="2026-02-21T01:08:02Z")
    assert item.scraped_at == "2026-02-21T01:08:02Z"


def test_full_user_without_visuals_has_no_banner():
    user = response_json(FOLLOWINGS_ONE)["collection"][0]  # J.Fla, "visuals": null
    assert user["visuals"] is None
    assert parse_user_json(user).banner_url is None


def test_full_user_without_visuals_fetches_only_avatar():
    user = response_json(FOLLOWINGS_ONE)["collection"][0]
    assert parse_user_json(user).file_urls == [
        "https://i1.sndcdn.com/avatars-000516550104-ydetap-t500x500.jpg"
    ]


def test_banner_url_none_when_visuals_null():
    user = response_json(DUBMATIX)
    user["visuals"] = None
    assert banner_url(user) is None


def test_mini_user_in_track_is_not_full_profile():
    assert parse_user_json(embedded_user(first_track())).full_profile is False


def test_mini_user_in_track_has_no_file_urls():
    assert parse_user_json(embedded_user(first_track())).file_urls == []


def test_mini_user_in_track_description_is_none():
    assert parse_user_json(embedded_user(first_track())).description is None


def test_mini_user_in_track_keeps_what_it_has():
    item = parse_user_json(embedded_user(first_track()))
    assert (item.id, item.username, item.followers_count, item.country_code) == (
        10494998, "Lil Uzi Vert", 3243390, "US",
    )


def test_mini_user_in_track_counts_it_lacks_are_none():
    item = parse_user_json(embedded_user(first_track()))
    assert (item.followings_count, item.track_count, item.banner_url) == (None, None, None)


def test_mini_user_in_comment_is_not_full_profile():
    item = parse_user_json(embedded_user(first_comment()))
    assert (item.id, item.full_profile, item.file_urls) == (143469553, False, [])


def test_mini_user_in_comment_keeps_default_avatar():
    item = parse_user_json(embedded_user(first_comment()))
    assert item.avatar_url == "https://a1.sndcdn.com/images/default_avatar_large.png"


def test_is_full_user_for_profile_and_mini_user():
    assert (is_full_user(response_json(DUBMATIX)), is_full_user(first_track()["user"])) == (True, False)


def test_full_user_embedded_in_resolved_track_is_full_profile():
    # /resolve of a track embeds the uploader's full profile (here with visuals null).
    user = embedded_user(response_json(RESOLVE_TRACK))
    item = parse_user_json(user)
    assert (item.id, item.full_profile, item.banner_url) == (62893742, True, None)


def test_embedded_user_none_without_user():
    assert embedded_user({"id": 1, "kind": "track"}) is None


def test_user_without_id_raises():
    user = response_json(DUBMATIX)
    del user["id"]
    with pytest.raises(MalformedPage):
        parse_user_json(user)


def test_search_results_are_full_profiles():
    users = parse_collection_page(response_body(SEARCH_LAST)).collection
    assert [parse_user_json(u).full_profile for u in users] == [True, True, True]


# === image sizes ===================================================================================

def test_image_variant_large_to_t500x500():
    assert image_variant("https://i1.sndcdn.com/artworks-000071246919-n0azrs-large.jpg") == (
        "https://i1.sndcdn.com/artworks-000071246919-n0azrs-t500x500.jpg"
    )


def test_image_variant_other_size():
    assert image_variant("https://i1.sndcdn.com/avatars-v58A5KC6lmkjFSqL-OPgrwg-large.jpg", "original") == (
        "https://i1.sndcdn.com/avatars-v58A5KC6lmkjFSqL-OPgrwg-original.jpg"
    )


def test_image_variant_keeps_default_avatar():
    url = "https://a1.sndcdn.com/images/default_avatar_large.png"
    assert image_variant(url) == url


def test_image_variant_none_stays_none():
    assert image_variant(None) is None


# === user input: artist references ======================================================================

def test_classify_artist_ref_full_url():
    assert classify_artist_ref("https://soundcloud.com/dubmatix") == ("url", "https://soundcloud.com/dubmatix")


def test_classify_artist_ref_url_without_scheme_gets_https():
    assert classify_artist_ref("soundcloud.com/dubmatix") == ("url", "https://soundcloud.com/dubmatix")


def test_classify_artist_ref_www_url_without_scheme_gets_https():
    assert classify_artist_ref("www.soundcloud.com/dubmatix") == ("url", "https://www.soundcloud.com/dubmatix")


def test_classify_artist_ref_url_trailing_slash_dropped():
    assert classify_artist_ref("https://soundcloud.com/dubmatix/") == ("url", "https://soundcloud.com/dubmatix")


def test_classify_artist_ref_permalink():
    assert classify_artist_ref("dubmatix") == ("permalink", "dubmatix")


def test_classify_artist_ref_permalink_with_dash_and_digits():
    assert classify_artist_ref("cian-gavin-742631515") == ("permalink", "cian-gavin-742631515")


def test_classify_artist_ref_display_name():
    assert classify_artist_ref("Lil Uzi Vert") == ("name", "Lil Uzi Vert")


def test_classify_artist_ref_strips_whitespace():
    assert classify_artist_ref("  dubmatix \n") == ("permalink", "dubmatix")


def test_permalink_from_profile_url():
    assert permalink_from_url("https://soundcloud.com/dubmatix") == "dubmatix"


def test_permalink_from_track_url():
    url = "https://soundcloud.com/zedsdead/zeds-dead-twin-shadow-lost-you-feat-dangelo-lacy"
    assert permalink_from_url(url) == "zedsdead"


def test_permalink_from_site_root_is_none():
    assert permalink_from_url("https://soundcloud.com/") is None


def test_classified_url_gives_permalink():
    _, url = classify_artist_ref("soundcloud.com/dubmatix")
    assert permalink_from_url(url) == "dubmatix"


def test_permalink_from_url_of_recorded_user():
    assert permalink_from_url(response_json(DUBMATIX)["permalink_url"]) == "dubmatix"


def test_copy_of_sample_does_not_leak_between_tests():
    # The helpers hand out fresh copies: mutating one must not change the next.
    track = first_track()
    track["title"] = "changed"
    assert first_track()["title"] == "What You Saying"


# === Interactions (community graph) =============================================================

from soundscraping.sites.soundcloud.parsers import parse_interactions  # noqa: E402

LIKES_TRACKS = "soundcloudchanneltabextractor/likesonlytracks/generated_mock_1.json"
LIKES_PLAYLISTS = "soundcloudchanneltabextractor/likesonlyplaylists/generated_mock_1.json"
FOLLOWINGS = "soundcloudsubscriptionextractor/generated_mock_11.json"


def likes_of(relpath: str) -> list[dict]:
    return parse_collection_page(response_body(relpath)).collection


def test_track_likes_become_edges_to_the_track_owner() -> None:
    found = parse_interactions("like", 30854092, likes_of(LIKES_TRACKS))
    first = found.edges[0]
    assert (first.source_user_id, first.kind, first.target_user_id, first.object_id, first.created_at) == (
        30854092, "like", 796585885, 2124963702, "2026-02-20T17:12:35Z")
    assert len(found.edges) == 19 and found.deleted == 0


def test_playlist_likes_point_at_the_playlist_owner() -> None:
    items = likes_of(LIKES_PLAYLISTS)
    found = parse_interactions("like", 1280839267, items)
    assert [e.object_id for e in found.edges] == [i["playlist"]["id"] for i in items]
    assert [e.target_user_id for e in found.edges] == [i["playlist"]["user"]["id"] for i in items]


def test_deleted_liked_objects_are_counted_not_edges() -> None:
    items = likes_of(LIKES_TRACKS)[:3]
    items[0]["track"] = None
    items[1]["track"] = {"id": 5, "kind": "track"}  # stub without its owner
    found = parse_interactions("like", 1, items)
    assert (len(found.edges), found.deleted) == (1, 2)


def test_followings_are_follow_edges_without_object() -> None:
    users = likes_of(FOLLOWINGS)
    found = parse_interactions("follow", 8553751, users)
    assert len(found.edges) == 58
    assert {(e.kind, e.object_id) for e in found.edges} == {("follow", None)}
    assert found.users[0]["followers_count"] == users[0]["followers_count"]


def test_reposts_point_at_the_reposted_object_owner_not_the_reposter() -> None:
    item = {"created_at": "2018-10-03T20:02:06Z", "type": "track-repost",
            "track": {"id": 509084016, "kind": "track", "user_id": 171328600,
                      "user": {"id": 171328600, "permalink": "unightcore", "kind": "user"}},
            "user": {"id": 31109873, "permalink": "nightcore-3", "kind": "user"}}
    (edge,) = parse_interactions("repost", 31109873, [item]).edges
    assert (edge.target_user_id, edge.object_id) == (171328600, 509084016)


def test_comments_point_at_the_track_owner() -> None:
    comment = {"kind": "comment", "id": 1, "body": "x", "created_at": "2024-09-01T17:45:16Z",
               "track": {"id": 77, "user": {"id": 9, "permalink": "owner", "followers_count": 300}}}
    (edge,) = parse_interactions("comment", 5, [comment]).edges
    assert (edge.kind, edge.target_user_id, edge.object_id, edge.created_at) == ("comment", 9, 77,
                                                                                  "2024-09-01T17:45:16Z")
