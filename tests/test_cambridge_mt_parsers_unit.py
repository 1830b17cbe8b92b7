"""Parser tests for soundscraping.sites.cambridge_mt.

* The real captured genre forum page (fid=6, 2024-03-19, tests/fixtures/cambridge_mt):
  every song sub-forum row, checked against an independent regex reading of
  the raw HTML, plus the relative-date rows.
* The library page as the replica renders it from the real 616-song CSV
  (real URLs: the replica is not bound to ports here).
* MyBB thread lists (2024 and 2025 author templates) and thread pages as the
  replica renders them, against the generated world.
* Dates, Cloudflare e-mails, titles, counts as unit facts.
"""

from __future__ import annotations

import calendar
import csv
import re
from datetime import UTC, datetime
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from parsel import Selector

from replicas.cambridge_mt.cloudflare import cfemail_hex
from replicas.cambridge_mt.library import render_library
from replicas.cambridge_mt.mybb import mybb_date, render_forum, render_thread
from replicas.cambridge_mt.world import (
    LIBRARY_URL,
    METADATA_CSV,
    Forum,
    ForumConfig,
    Library,
    build_forum,
    load_library,
)
from soundscraping.sites import MalformedPage
from soundscraping.sites.cambridge_mt.dates import date_in, parse_mybb_date
from soundscraping.sites.cambridge_mt.forum import parse_forum_page, parse_rating, parse_thread_page
from soundscraping.sites.cambridge_mt.library import clean_title, parse_library, parse_track_count
from soundscraping.sites.cambridge_mt.text import decode_cfemail, node_text, parse_count
from soundscraping.sites.cambridge_mt.urls import host_matches, is_direct_audio, is_mix_link
from tests.fixtures import CAMBRIDGE_FID6_PAGE

FID6_URL = "https://discussion.cambridge-mt.com/forumdisplay.php?fid=6"
# The page's own clock: "Current time: 19-03-2024, 09:30 PM" (board time, UTC).
FID6_NOW = datetime(2024, 3, 19, 21, 30, tzinfo=UTC)
FIXED_NOW = calendar.timegm((2025, 4, 15, 14, 37, 0))


@pytest.fixture(scope="module")
def fid6_html() -> str:
    return CAMBRIDGE_FID6_PAGE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


@pytest.fixture(scope="module")
def forum(library: Library) -> Forum:
    return build_forum(library, ForumConfig(seed=3, now=FIXED_NOW))


# --- the real genre forum page ------------------------------------------------------------


def _oracle_rows(html: str) -> list[tuple[int, str, int, int, str]]:
    """(fid, name, threads, posts, raw last-post date html) per row, read with
    regular expressions straight from the page (independent of the parser)."""
    rows = []
    pattern = re.compile(
        r'<strong><a href="forumdisplay\.php\?fid=(\d+)">(.*?)</a></strong>.*?'
        r'nowrap">([\d,]+)</td>\s*<td[^>]*nowrap">([\d,]+)</td>.*?<br />(.*?)<br />by', re.S)
    for m in pattern.finditer(html):
        rows.append((int(m.group(1)), unescape(m.group(2)), int(m.group(3).replace(",", "")),
                     int(m.group(4).replace(",", "")), m.group(5)))
    return rows


def test_real_genre_page_every_song_forum_row(fid6_html: str) -> None:
    page = parse_forum_page(fid6_html, FID6_URL, now=FID6_NOW)
    oracle = _oracle_rows(fid6_html)
    assert len(oracle) == 155 and len(page.forums) == 155
    assert [(r.fid, r.name, r.threads, r.posts) for r in page.forums] == [o[:4] for o in oracle]
    for row, (_fid, _name, _t, _p, raw) in zip(page.forums, oracle, strict=True):
        if m := re.fullmatch(r"(\d\d)-(\d\d)-(\d{4}), (\d\d):(\d\d) ([AP]M)", raw.strip()):
            day, month, year, hour, minute, ampm = m.groups()
            hour24 = int(hour) % 12 + (12 if ampm == "PM" else 0)
            assert row.last_post_at == f"{year}-{month}-{day}T{hour24:02d}:{minute}:00Z", row
        else:
            assert "<span title=" in raw and row.last_post_at is not None, row
        assert row.last_post_tid and row.last_post_author


def test_real_genre_page_known_rows(fid6_html: str) -> None:
    rows = {r.fid: r for r in parse_forum_page(fid6_html, FID6_URL, now=FID6_NOW).forums}
    first = rows[471]
    assert (first.name, first.threads, first.posts, first.last_post_at, first.last_post_tid, first.last_post_author) \
        == ("Ale Lak: 'Nosso Mundo Deixou De Existir'", 70, 152, "2024-03-04T12:01:00Z", 49144, "Dignis")
    assert (rows[212].threads, rows[212].posts) == (785, 2495), "thousands separators"
    assert rows[365].name == "The Apprehended: 'Still Flyin''"


@pytest.mark.parametrize(("fid", "expected"), [
    (837, "2024-03-18T19:01:00Z"),  # <span title="18-03-2024">Yesterday</span>, 07:01 PM
    (743, "2024-03-18T18:06:00Z"),  # Yesterday, 06:06 PM
    (969, "2024-03-19T13:04:00Z"),  # <span title="19-03-2024, 01:04 PM">8 hours ago</span>
    (964, "2024-03-19T19:15:00Z"),  # 2 hours ago
    (970, "2024-03-19T20:43:00Z"),  # 47 minutes ago
])
def test_real_genre_page_relative_dates(fid6_html: str, fid: int, expected: str) -> None:
    rows = {r.fid: r for r in parse_forum_page(fid6_html, FID6_URL, now=FID6_NOW).forums}
    assert rows[fid].last_post_at == expected


def test_real_genre_page_relative_dates_need_no_clock(fid6_html: str) -> None:
    """The titles carry the dates: a crawl a year later reads the same values."""
    later = parse_forum_page(fid6_html, FID6_URL, now=datetime(2025, 6, 1, tzinfo=UTC))
    now = parse_forum_page(fid6_html, FID6_URL, now=FID6_NOW)
    assert [r.last_post_at for r in later.forums] == [r.last_post_at for r in now.forums]


def test_real_genre_page_structure(fid6_html: str) -> None:
    page = parse_forum_page(fid6_html, FID6_URL, now=FID6_NOW)
    assert (page.fid, page.name, page.threads, page.pages) == (6, "Rock, Punk, Metal", [], 1)
    assert 184 not in {r.fid for r in page.forums}, "the breadcrumb is not a sub-forum"


def test_real_genre_page_forums_are_the_library_songs(fid6_html: str) -> None:
    """The 2024 forum rows and the 2025 library's Rock songs share their fids."""
    songs = list(csv.DictReader(METADATA_CSV.open(encoding="utf-8")))
    rock = {int(re.search(r"fid=(\d+)", s["Forum Link"]).group(1))
            for s in songs if s["Genre"] == "Rock / Punk / Metal"}
    fids = {r.fid for r in parse_forum_page(fid6_html, FID6_URL, now=FID6_NOW).forums}
    assert len(fids & rock) >= 145  # 149: a few songs moved or were added between 2024-03 and 2025-02


def test_not_a_forum_page() -> None:
    with pytest.raises(MalformedPage):
        parse_forum_page("<html><title>Just a moment...</title><body>Verifying you are human</body></html>", FID6_URL)


# --- dates --------------------------------------------------------------------------------

NOW = datetime(2025, 3, 10, 15, 30, 20, tzinfo=UTC)


@pytest.mark.parametrize(("text", "title", "expected"), [
    ("20-07-2012, 11:29 AM", None, "2012-07-20T11:29:00Z"),
    ("04-03-2024, 12:01 PM", None, "2024-03-04T12:01:00Z"),
    ("04-03-2024, 12:15 AM", None, "2024-03-04T00:15:00Z"),
    ("Yesterday, 07:01 PM", "18-03-2024", "2024-03-18T19:01:00Z"),
    ("Today, 09:05 AM", "19-03-2024", "2024-03-19T09:05:00Z"),
    ("8 hours ago", "19-03-2024, 01:04 PM", "2024-03-19T13:04:00Z"),
    ("Yesterday, 06:10 PM", None, "2025-03-09T18:10:00Z"),  # scraped text: relative to now
    ("Today, 10:00 AM", None, "2025-03-10T10:00:00Z"),
    ("51 minutes ago", None, "2025-03-10T14:39:00Z"),
    ("1 hour ago", None, "2025-03-10T14:30:00Z"),
    ("Less than 1 minute ago", None, "2025-03-10T15:30:00Z"),
    ("", None, None),
    ("Never", None, None),
])
def test_mybb_dates(text: str, title: str | None, expected: str | None) -> None:
    assert parse_mybb_date(text, title, now=NOW) == expected


def test_mybb_dates_in_the_board_time_zone() -> None:
    london = ZoneInfo("Europe/London")
    assert parse_mybb_date("20-07-2012, 11:29 AM", tz=london) == "2012-07-20T10:29:00Z"  # BST
    assert parse_mybb_date("Yesterday, 12:30 AM", now=datetime(2025, 7, 1, 0, 10, tzinfo=UTC), tz=london) == \
        "2025-06-29T23:30:00Z"


def test_replica_relative_dates_round_trip() -> None:
    now = FIXED_NOW
    for ago in (0, 59, 60, 3599, 3600, 43199, 43200, 50000, 86400, 2 * 86400, 400 * 86400):
        t = (now - ago) // 60 * 60
        span = Selector(text=f"<span>{mybb_date(t, now)}</span>").css("span")[0]
        assert date_in(span, now=datetime.fromtimestamp(now, UTC)) == \
            datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:00Z"), ago


# --- small facts --------------------------------------------------------------------------


def test_cloudflare_email() -> None:
    assert decode_cfemail("5a3733223f287430353f1a3d373b333674393537") == "mixer.joe@gmail.com"
    assert decode_cfemail(cfemail_hex("杨晨@example.cn", 0x33)) == "杨晨@example.cn"  # the replica's own encoder
    html = ('<div>Mail <a href="/cdn-cgi/l/email-protection" class="__cf_email__" '
            'data-cfemail="5a3733223f287430353f1a3d373b333674393537">[email&#160;protected]</a> now</div>')
    assert node_text(Selector(text=html).css("div")[0]) == "Mail mixer.joe@gmail.com now"


@pytest.mark.parametrize(("raw", "expected"), [
    ("'Corine, Corine'", ("Corine, Corine", None, False)),
    ("NEW! 'The Calling'", ("The Calling", None, True)),
    ("W.A. Mozart's\n'Piano Concerto No.12 K414 (Allegro)'",
     ("Piano Concerto No.12 K414 (Allegro)", "W.A. Mozart's", False)),
    ("Brahms'\n'Hungarian Dance No. 5'", ("Hungarian Dance No. 5", "Brahms'", False)),
    ("'Still Flyin''", ("Still Flyin'", None, False)),
    ("'That's Entertainment'", ("That's Entertainment", None, False)),
    ("‘Paddy Fahy’s Jig’", ("Paddy Fahy’s Jig", None, False)),
])
def test_clean_title(raw: str, expected: tuple[str, str | None, bool]) -> None:
    assert clean_title(raw) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("20 Tracks:", (20, None)), ("1 Track:", (1, None)), ("79 Tracks | 2 Parts:", (79, 2)),
    ("113 Tracks | 4 Parts:", (113, 4)), ("", (None, None)), (None, (None, None)),
])
def test_track_counts(text: str | None, expected: tuple[int | None, int | None]) -> None:
    assert parse_track_count(text) == expected


def test_counts_and_ratings() -> None:
    assert parse_count("19,775") == 19775
    assert parse_count("none") is None  # a trace of the old scrapers' trow2 bug
    assert parse_rating("0 Vote(s) - 0 out of 5 in Average") is None
    assert parse_rating("2 Vote(s) - 3.5 out of 5 in Average") == 3.5


def test_mix_links() -> None:
    assert is_mix_link("https://www.dropbox.com/s/abc/My%20Mix.wav?dl=0")
    assert is_mix_link("https://drive.google.com/file/d/xyz/view?usp=sharing")
    assert is_mix_link("https://soundcloud.com/someone/a-mix") and is_mix_link("https://we.tl/t-abc")
    assert is_mix_link("http://myhost.example.org/mixes/final.MP3")
    assert not is_mix_link("https://www.youtube.com/watch?v=abc")
    assert not is_mix_link("https://discussion.cambridge-mt.com/showthread.php?tid=5")
    assert is_direct_audio("http://myhost.example.org/mixes/final.wav")
    assert not is_direct_audio("https://www.dropbox.com/s/abc/My%20Mix.wav?dl=0")
    assert host_matches("mtkdata.cambridgemusictechnology.co.uk", ["cambridgemusictechnology.co.uk"])
    assert host_matches("127.0.0.1:8080", ["127.0.0.1:8080"]) and not host_matches("127.0.0.1:81", ["127.0.0.1:80"])


# --- the library page (replica markup, real data) ---------------------------------------------


def test_library_page_every_real_song(library: Library) -> None:
    html = render_library(library)  # unbound: the real URLs
    songs = parse_library(html, LIBRARY_URL, scraped_at="2025-04-15T00:00:00Z")
    assert len(songs) == len(library.songs) == 616
    fields = list(library.expected_song(library.songs[0]))
    for song, want in zip(songs, library.songs, strict=True):
        assert {f: getattr(song, f) for f in fields} == library.expected_song(want), want.raw_title


def test_library_page_quirks(library: Library) -> None:
    songs = {(s.artist, s.title): s for s in parse_library(render_library(library), LIBRARY_URL)}
    new = songs[("Ben Flowers", "The Calling")]
    assert new.composer is None
    mozart = songs[("Andrey Yaroshinsky & The Gnessin Academy Chamber Orchestra",
                    "Piano Concerto No.12 K414 (Allegro)")]
    assert mozart.composer == "W.A. Mozart's"
    dreams = songs[("Perpetual Escape", "Into My Dreams")]
    assert dreams.full_tracks == 113 and [u.rsplit("/", 1)[1] for u in dreams.multitrack_urls] == [
        f"PerpetualEscape_IntoMyDreams_Full_{k}.zip" for k in range(1, 5)]
    forest = songs[("Wide Waters", "Into The Forest")]
    assert forest.multitrack_urls[1].endswith("_Full_Pt2.zip")
    zenodo = songs[("3D-MARCo Project", "A Capella")]
    assert zenodo.external_download and not zenodo.registration_required
    assert zenodo.multitrack_urls == ["https://zenodo.org/record/3477602/files/09%203D-MARCo%20Samples_Acappella.zip?download=1"]
    puremix = songs[("Will Knox", "Cog In The Machine")]
    assert puremix.external_download and puremix.registration_required
    poor = songs[("Wesley Morgan", "Poor Boy")]
    assert (poor.multitrack_urls, poor.excerpt_urls, poor.full_tracks) == ([], [], None)
    mystery = songs[("Sound On Sound Demo", "Mystery")]
    assert mystery.multitrack_urls == [] and mystery.excerpt_urls and mystery.full_preview_url is None
    assert mystery.excerpt_preview_url.endswith("Mystery_Preview.mp3")
    assert sum(s.external_download for s in songs.values()) == 5


def test_library_page_unrecognised() -> None:
    with pytest.raises(MalformedPage):
        parse_library("<html><title>Just a moment...</title></html>", LIBRARY_URL)


# --- thread lists and threads (replica markup) --------------------------------------------------


def _threads_by_markup(forum: Forum, markup: str, min_threads: int = 3) -> int:
    return next(sf.fid for sf in forum.song_forums.values() if sf.markup == markup and len(sf.threads) >= min_threads)


@pytest.mark.parametrize("markup", ["2024", "2025"])
def test_thread_list_both_author_templates(forum: Forum, markup: str) -> None:
    fid = _threads_by_markup(forum, markup)
    html = render_forum(forum, fid, 1, FIXED_NOW, lastvisit=None)
    page = parse_forum_page(html, f"{forum.base}/forumdisplay.php?fid={fid}",
                            now=datetime.fromtimestamp(FIXED_NOW, UTC))
    expected = forum.expected_threads([fid])
    assert {t.tid for t in page.threads} == set(expected)
    for thread in page.threads:
        fid_, title, author, started, views, replies, rating = expected[thread.tid]
        assert (thread.forum_fid, thread.title, thread.author, thread.views, thread.replies, thread.rating) == \
            (fid_, title, author, views, replies, rating)
        # Only the 2025 template shows the start date in the list.
        assert thread.started_at == (started if markup == "2025" else None)


def test_thread_list_old_and_new_markers_and_every_row(forum: Forum) -> None:
    """Threads are found whether marked new or old; views read on trow1 and trow2 rows."""
    big = max(forum.song_forums.values(), key=lambda sf: len(sf.threads))
    expected = forum.expected_threads([big.fid])
    lasts = sorted(t.last.dateline for t in big.threads)
    lastvisit = lasts[len(lasts) // 2]  # half the threads read, half new
    found, markers = {}, set()
    for page_no in (1, 2, 3):
        html = render_forum(forum, big.fid, page_no, FIXED_NOW, lastvisit=lastvisit)
        markers |= set(re.findall(r"subject_(?:old|new)|trow2", html))
        page = parse_forum_page(html, f"{forum.base}/forumdisplay.php?fid={big.fid}&page={page_no}",
                                now=datetime.fromtimestamp(FIXED_NOW, UTC))
        assert page.pages == 3 and len(page.threads) == (20 if page_no < 3 else 5)
        found.update({t.tid: t.views for t in page.threads})
    assert markers == {"subject_old", "subject_new", "trow2"}
    assert found == {tid: row[4] for tid, row in expected.items()}


def test_single_page_forum_has_no_pagination(forum: Forum) -> None:
    fid = next(sf.fid for sf in forum.song_forums.values() if len(sf.threads) == 20)
    html = render_forum(forum, fid, 1, FIXED_NOW, None)
    assert "span class=\"pages\"" not in html
    assert parse_forum_page(html, f"{forum.base}/forumdisplay.php?fid={fid}").pages == 1


def test_thread_pages_posts_and_mixes(forum: Forum, library: Library) -> None:
    now = datetime.fromtimestamp(FIXED_NOW, UTC)
    want_posts, want_mixes = forum.expected_posts(), forum.expected_mixes(library)
    posts, mixes = {}, {}
    for thread in forum.threads.values():
        pages = (len(thread.posts) + 9) // 10
        for page_no in range(1, pages + 1):
            url = f"{forum.base}/showthread.php?tid={thread.tid}" + (f"&page={page_no}" if page_no > 1 else "")
            page = parse_thread_page(render_thread(forum, library, thread.tid, page_no, FIXED_NOW), url, now=now)
            assert page.pages == pages and page.title == thread.subject
            posts.update({p.pid: (p.tid, p.author, p.posted_at, p.body_text) for p in page.posts})
            mixes.update({(m.url, m.pid): (m.tid, m.kind, m.host, m.filename) for m in page.mixes})
    assert posts == want_posts
    assert mixes == want_mixes
    kinds = {v[1] for v in mixes.values()}
    assert kinds == {"audio", "attachment", "external"}
    assert not any("youtube" in url for url, _ in mixes), "references are not mixes"
    assert not any("quoted.wav" in url for url, _ in mixes), "a quoted link is the quoted post's mix"
    assert any("@" in v[1] for v in posts.values()), "e-mail user names decoded"
