"""cambridge_forum's callbacks on the real genre page (fid=6, 2024-03-19) and
on a song forum and a thread saved from the replica (tests/fixtures/README.md):
forums lead to their sub-forums, thread lists to their pages and threads,
threads to their posts, mixes and later pages."""

from __future__ import annotations

from email.utils import formatdate

from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from soundscraping.items import CmtForumPost, CmtForumThread, CmtMix
from soundscraping.spiders.cambridge_forum import CambridgeForumSpider
from tests.utils import fake_response, items_of, make_spider, query_params, requests_of, start_requests_of

FORUM = "https://discussion.cambridge-mt.com"
GENRE_PAGE = "cambridge_mt/discussion_forumdisplay_fid6_RockPunkMetal_2024-03-19.html"
SONG_FORUM = "cambridge_mt/replica_forumdisplay_fid439.html"
THREAD = "cambridge_mt/replica_showthread_tid349.html"
# The replica forum's clock when the pages were saved (scripts/save_replica_fixtures.py).
SAVED_AT = {"Date": formatdate(1764547200, usegmt=True)}


def spider(**kwargs: str) -> CambridgeForumSpider:
    return make_spider(CambridgeForumSpider, **kwargs)



def test_start_is_the_root_category_or_the_forums_given() -> None:
    (root,) = start_requests_of(spider())
    assert root.url == f"{FORUM}/forumdisplay.php?fid=184" and root.meta == {"fid": 184, "page": 1}
    assert [r.meta["fid"] for r in start_requests_of(spider(forums="6, 7;6"))] == [6, 7]


def test_a_genre_forum_leads_to_every_song_forum() -> None:
    s = spider()
    first = s.forum_request(6)
    assert first.url == f"{FORUM}/forumdisplay.php?fid=6" and first.meta == {"fid": 6, "page": 1}
    captured = {"Date": "Tue, 19 Mar 2024 12:00:00 GMT"}
    out = list(s.parse_forum(fake_response(GENRE_PAGE, request=first, headers=captured)))
    assert items_of(out) == []
    forums = requests_of(out)
    assert len(forums) == 155 and len({r.url for r in forums}) == 155
    assert forums[0].url == f"{FORUM}/forumdisplay.php?fid=471" and forums[0].meta == {"fid": 471, "page": 1}
    assert all(r.callback == s.parse_forum and r.errback == s.on_forum_error for r in forums)
    assert s.crawler.stats.get_value("soundscraping/forum/forums") == 155


def test_a_song_forum_asks_for_its_other_list_pages_and_every_thread() -> None:
    s = spider()
    out = list(s.parse_forum(fake_response(SONG_FORUM, request=s.forum_request(439), headers=SAVED_AT)))
    requests = requests_of(out)
    pages = [r for r in requests if r.callback == s.parse_forum]
    threads = [r for r in requests if r.callback == s.parse_thread]
    assert [(r.meta["fid"], r.meta["page"]) for r in pages] == [(439, 2), (439, 3)]
    assert pages[0].url == f"{FORUM}/forumdisplay.php?fid=439&page=2"
    assert len(threads) == 20 and len({r.meta["tid"] for r in threads}) == 20
    for request in threads:
        thread = request.meta["thread"]
        assert isinstance(thread, CmtForumThread) and thread.forum_fid == 439 and thread.tid == request.meta["tid"]
        assert request.url == f"{FORUM}/showthread.php?tid={thread.tid}" and request.errback == s.on_thread_error
        assert request.meta["page"] == 1 and request.meta["fid"] == 439
    # A later list page asks for its threads only, not the pages again.
    later = list(s.parse_forum(fake_response(SONG_FORUM, request=pages[0], headers=SAVED_AT)))
    assert all(r.callback == s.parse_thread for r in requests_of(later))


def test_a_thread_yields_itself_its_posts_its_mixes_and_its_later_pages() -> None:
    s = spider()
    thread = CmtForumThread(tid=349, forum_fid=439, title=None)
    out = list(s.parse_thread(fake_response(THREAD, request=s.thread_request(thread), headers=SAVED_AT)))
    (stored,) = items_of(out, CmtForumThread)
    assert stored is thread and thread.title == "The Abletones Big Band - Corine, Corine mix"
    posts = items_of(out, CmtForumPost)
    assert len(posts) == 10 and {p.tid for p in posts} == {349}
    assert thread.started_at == posts[0].posted_at, "the first post's date when the list showed none"
    mixes = items_of(out, CmtMix)
    assert [(m.kind, m.filename) for m in mixes] == [("audio", "corine-corine_ana-mix-yahoo-es_mix.mp3"),
                                                    ("audio", "corine-corine_low-end-larry_mix.mp3")]
    assert {m.tid for m in mixes} == {349} and all(m.file_urls == [] for m in mixes), "download=none"
    (page_two,) = requests_of(out)
    assert page_two.url == f"{FORUM}/showthread.php?tid=349&page=2" and page_two.callback == s.parse_thread
    assert page_two.meta["page"] == 2 and page_two.meta["thread"] is thread
    assert s.crawler.stats.get_value("soundscraping/forum/mixes/audio") == 2


def test_download_mixes_keeps_the_attachments() -> None:
    s = spider(download="mixes")
    thread = CmtForumThread(tid=349, forum_fid=439)
    out = list(s.parse_thread(fake_response(THREAD, request=s.thread_request(thread), headers=SAVED_AT)))
    assert [m.file_urls for m in items_of(out, CmtMix)] == [[m.url] for m in items_of(out, CmtMix)]
    assert all(query_params(m.url)["aid"] for m in items_of(out, CmtMix))


def test_a_thread_that_cannot_be_read_keeps_its_list_row() -> None:
    s = spider()
    request = s.thread_request(CmtForumThread(tid=5, forum_fid=439, title="From the list"))
    response = fake_response(THREAD, request=request, status=500)
    failure = Failure(HttpError(response, "Ignoring non-200 response"))
    failure.request = request  # what Scrapy sets on errback failures
    (row,) = s.on_thread_error(failure)
    assert isinstance(row, CmtForumThread) and (row.tid, row.title) == (5, "From the list")
    assert s.crawler.stats.get_value("soundscraping/skipped/http_500") == 1
