"""soundcloud_graph's callbacks on real recorded api-v2 answers (NewPipe's
mocks): a seed's profile starts its visit (one request per interaction list),
a list page becomes one InteractionPage and its next page, and the visit's
last list records the visit and starts the best-scored account next."""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlsplit

from soundscraping.items import GraphVisit, InteractionPage, SoundCloudUser
from soundscraping.spiders.soundcloud_graph import LISTS, SoundCloudGraphSpider
from tests.fixtures import response_json
from tests.utils import fake_response, items_of, make_spider, query_params, requests_of

MOCKS = "soundcloud/newpipe-mocks/"
PROFILE = MOCKS + "soundcloudchannelextractor/dubmatix/generated_mock_4.json"
LIKES = MOCKS + "soundcloudchanneltabextractor/likesonlytracks/generated_mock_1.json"  # of 30854092, 19 items
FOLLOWINGS = MOCKS + "soundcloudsubscriptionextractor/generated_mock_11.json"  # of 8553751, 58 users, last page


def spider(**kwargs: object) -> SoundCloudGraphSpider:
    return make_spider(SoundCloudGraphSpider, {"STORAGE_ENABLED": False},
                       **{"seeds": "dubmatix", "per_kind_limit": 30, "min_followers": 1000, **kwargs})


def visit_requests(s: SoundCloudGraphSpider, account: int) -> dict[str, object]:
    """The four list requests of a visit, by kind (the account claimed from
    the frontier as a seed, as parse_seed does)."""
    s.frontier.add_seed(account)
    claim = s.frontier.claim(s.max_accounts)
    assert claim is not None and claim.user_id == account
    return {r.meta["kind"]: r for r in s.begin_visit(claim.user_id, claim.score, 5000, claim.position)}


def test_seed_profile_is_stored_and_starts_its_visit() -> None:
    s = spider()
    s.seeds_resolving = 1  # start() counts the seeds it resolves
    out = list(s.parse_seed(fake_response(PROFILE, meta={"account": "dubmatix"})))
    (user,) = items_of(out)
    assert isinstance(user, SoundCloudUser) and user.id == 542134 and user.full_profile
    requests = requests_of(out)
    assert [r.meta["kind"] for r in requests] == list(LISTS)
    for request in requests:
        kind = request.meta["kind"]
        assert urlsplit(request.url).path == LISTS[kind].format(id=542134)
        assert query_params(request.url)["limit"] == ["30"], "never more than per_kind_limit"
        assert request.callback == s.parse_list and request.errback == s.list_failed
        assert request.meta == {"account": 542134, "kind": kind, "remaining": 30}
    assert 542134 in s.visits and s.frontier.followers[542134] == 2775276


def test_a_likes_page_is_one_interaction_page_and_asks_for_what_remains() -> None:
    s = spider()
    first = visit_requests(s, 30854092)["like"]
    recorded = response_json(LIKES.removeprefix(MOCKS))
    out = list(s.parse_list(fake_response(LIKES, fake_response(LIKES).url, request=first)))
    (page,) = items_of(out, InteractionPage)
    assert (page.source_user_id, page.kind, len(page.interactions)) == (30854092, "like", 19)
    liked = [(like["track"]["user"]["id"], like["track"]["id"]) for like in recorded["collection"]]
    assert [(i.target_user_id, i.object_id) for i in page.interactions] == liked
    assert {u.id for u in page.users} == {user for user, _ in liked} and all(u.file_urls == [] for u in page.users)
    (next_page,) = requests_of(out)
    assert next_page.url.split("?")[0] == recorded["next_href"].split("?")[0]
    assert query_params(next_page.url)["limit"] == ["11"], "30 per kind, 19 already read"
    assert next_page.callback == s.parse_list and next_page.errback == s.list_failed
    assert {k: next_page.meta[k] for k in ("account", "kind", "remaining")} == {
        "account": 30854092, "kind": "like", "remaining": 11}
    # Every liked account gained a like's weight (1) per like.
    assert s.frontier.scores == {user: float(n) for user, n in Counter(user for user, _ in liked).items()}


def test_the_last_list_records_the_visit_and_visits_the_best_scored_account_next() -> None:
    s = spider(max_accounts=2, min_followers=100_000)
    requests = visit_requests(s, 8553751)
    for kind in ("like", "repost", "comment"):
        assert list(s.list_done(8553751, kind)) == []  # the followings are still open
    recorded = response_json(FOLLOWINGS.removeprefix(MOCKS))
    out = list(s.parse_list(fake_response(FOLLOWINGS, fake_response(FOLLOWINGS).url, request=requests["follow"])))
    (page,) = items_of(out, InteractionPage)
    assert len(page.interactions) == 58 and all(u.full_profile for u in page.users), "followings are full users"
    (visit,) = items_of(out, GraphVisit)
    assert (visit.user_id, visit.position, visit.interactions) == (8553751, 0, 58)
    # Then the next account: every following weighs the same (3); of the accounts with at
    # least min_followers followers, the frontier takes the lowest id among equal scores.
    nxt = requests_of(out)
    expected = min(u["id"] for u in recorded["collection"] if u["followers_count"] >= 100_000)
    assert any(u["followers_count"] < 100_000 for u in recorded["collection"]), "small accounts are passed over"
    assert {r.meta["account"] for r in nxt} == {expected} and [r.meta["kind"] for r in nxt] == list(LISTS)
    assert s.crawler.stats.get_value("soundscraping/graph/accounts_visited") == 1
