"""Self-tests of the SoundCloud replica's interaction graph (GraphWorld and the
likes / reposts / followings / followers / comments routes used by the
``soundcloud_graph`` spider).  Plain urllib clients; every test well under 1 s."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest

from replicas.soundcloud import GraphWorld, GraphWorldConfig, Quirks, SoundCloudReplica
from tests.fixtures import response_json

REPO = Path(__file__).resolve().parents[1]
LIKES_CURSOR = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z,user-(track|playlist)-likes,000-(\d{20})-(\d{20})$")
REPOSTS_CURSOR = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z,source:(track|playlist):repost,(\d{20})$")
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
PATHS = {"like": "/users/{}/likes", "repost": "/stream/users/{}/reposts", "follow": "/users/{}/followings",
         "comment": "/users/{}/comments", "followers": "/users/{}/followers"}


def fetch(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        body = e.read()
        return e.code, json.loads(body) if body.startswith(b"{") else body


def with_cid(url: str, sc: SoundCloudReplica) -> str:
    return url + ("&" if "?" in url else "?") + f"client_id={sc.client_id}"


def api(sc: SoundCloudReplica, path: str) -> tuple[int, Any]:
    return fetch(with_cid(sc.urls["api"] + path, sc))


def walk(sc: SoundCloudReplica, path: str) -> list[dict[str, Any]]:
    """Every page, following next_href; stops (like the spider) when a
    next_href points back at the page just read."""
    pages = []
    url = with_cid(sc.urls["api"] + path, sc)
    seen: set[str] = set()
    for _ in range(10_000):
        status, page = fetch(url)
        assert status == 200, (status, url, page)
        pages.append(page)
        nxt = page.get("next_href")
        if not nxt:
            break
        assert "client_id" not in nxt
        assert "linked_partitioning" not in nxt or "/reposts?" in nxt  # a repost self-link keeps the query
        if nxt == url.replace(f"&client_id={sc.client_id}", "").replace(f"?client_id={sc.client_id}", ""):
            break  # the repost feed's last page repeats itself
        assert nxt not in seen, f"next_href repeated: {nxt}"
        seen.add(nxt)
        url = with_cid(nxt, sc)
    return pages


def edges_from_pages(kind: str, source: int, pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a client learns from the pages, in the ground-truth format."""
    out = []
    for page in pages:
        for item in page["collection"]:
            if kind == "follow":
                out.append({"source_user_id": source, "kind": "follow", "target_user_id": item["id"],
                            "object_id": None, "object_kind": None, "deleted": False})
                continue
            if kind == "comment":
                obj, obj_kind = item["track"], "track"
            else:
                obj_kind = "playlist" if "playlist" in item else "track"
                obj = item[obj_kind]
            owner = (obj or {}).get("user")
            out.append({"source_user_id": source, "kind": kind,
                        "target_user_id": owner["id"] if owner else None,
                        "object_id": obj["id"] if obj else None, "object_kind": obj_kind,
                        "deleted": owner is None, "created_at": item["created_at"]})
    return out


def truth(world: GraphWorld, uid: int, kind: str) -> list[dict[str, Any]]:
    rows = world.interactions_of(uid, kind)
    if kind == "follow":
        return [{k: v for k, v in r.items() if k != "created_at"} for r in rows]
    return rows


@pytest.fixture(scope="module")
def world() -> GraphWorld:
    return GraphWorld(GraphWorldConfig(seed=3, accounts=12, population=400, likes_per_account=60,
                                       reposts_per_account=35, followings_per_account=40,
                                       comments_per_account=25, deleted_every=9))


@pytest.fixture(scope="module")
def sc(world: GraphWorld) -> Iterator[SoundCloudReplica]:
    with SoundCloudReplica(world, Quirks()) as replica:
        yield replica


# --- shapes -------------------------------------------------------------------------------

def test_likes_page_mixes_tracks_and_playlists_with_recorded_shapes(sc: SoundCloudReplica, world: GraphWorld) -> None:
    rec_tracks = response_json("soundcloudchanneltabextractor/likesonlytracks/generated_mock_1.json")
    rec_playlists = response_json("soundcloudchanneltabextractor/likesonlyplaylists/generated_mock_1.json")
    rec_track, rec_playlist = rec_tracks["collection"][0]["track"], rec_playlists["collection"][0]["playlist"]
    uid = world.account_ids[0]
    status, page = api(sc, f"/users/{uid}/likes?limit=200&linked_partitioning=1")
    assert status == 200 and list(page) == list(rec_tracks)  # collection, next_href, query_urn
    assert page["query_urn"] is None
    kinds = {("playlist" if "playlist" in it else "track") for it in page["collection"]}
    assert kinds == {"track", "playlist"}
    live = [it for it in page["collection"] if (it.get("track") or it.get("playlist") or {}).get("user")]
    for it in live:
        assert it["kind"] == "like" and ISO.match(it["created_at"])
        assert list(it)[:2] == ["created_at", "kind"] and len(it) == 3
        obj = it.get("track") or it["playlist"]
        rec = rec_track if "track" in it else rec_playlist
        assert list(obj) == list(rec), "same keys, same order as the recorded like"
        assert list(obj["user"]) == list(rec["user"]) and isinstance(obj["user"]["followers_count"], int)
        assert obj["user"]["id"] == obj["user_id"]
    # the world's mini user is what gets embedded
    first = live[0].get("track") or live[0]["playlist"]
    assert first["user"] == world.mini_user(first["user_id"])


def test_full_users_in_followings_followers_and_users_route(sc: SoundCloudReplica, world: GraphWorld) -> None:
    rec = response_json("soundcloudsubscriptionextractor/generated_mock_11.json")
    uid = world.account_ids[1]
    status, page = api(sc, f"/users/{uid}/followings?limit=200")
    assert status == 200 and list(page) == list(rec)
    assert all(list(u) == list(rec["collection"][0]) for u in page["collection"])
    status, user = api(sc, f"/users/{uid}")
    assert status == 200 and user == world.user(uid) and list(user) == list(rec["collection"][0])
    assert user["followings_count"] == len(world.interactions_of(uid, "follow"))
    status, resolved = api(sc, "/resolve?url=" + quote(f"https://soundcloud.com/{world.permalink(uid)}/likes", safe=""))
    assert status == 200 and resolved["id"] == uid
    target = page["collection"][0]["id"]
    status, followers = api(sc, f"/users/{target}/followers?limit=200")
    assert status == 200 and uid in [u["id"] for p in walk(sc, f"/users/{target}/followers?limit=200")
                                     for u in p["collection"]]
    assert list(followers["collection"][0]) == list(rec["collection"][0])


def test_repost_and_comment_items(sc: SoundCloudReplica, world: GraphWorld) -> None:
    uid = world.account_ids[2]
    items = [it for p in walk(sc, f"/stream/users/{uid}/reposts?limit=200") for it in p["collection"]]
    assert {it["type"] for it in items} == {"track-repost", "playlist-repost"}
    for it in items:
        key = it["type"].split("-")[0]
        assert list(it) == ["created_at", "type", key, "user", "uuid", "caption", "reposted"]
        assert it["user"] == world.mini_user(uid) and it["caption"] is None
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-0000-[0-9a-f]{12}", it["uuid"])
    comments = [c for p in walk(sc, f"/users/{uid}/comments?limit=7") for c in p["collection"]]
    assert len(comments) == 25
    c = comments[0]
    assert list(c)[:10] == ["kind", "id", "body", "created_at", "timestamp", "track_id", "user_id", "self", "user",
                            "track"]
    assert c["user"]["id"] == uid and c["track"]["id"] == c["track_id"]
    assert isinstance(c["track"]["user"]["followers_count"], int) and c["track"]["permalink_url"]
    assert any(x["timestamp"] is None for x in comments) or len(comments) < 7


# --- pagination ----------------------------------------------------------------------------

def test_cursors_and_next_href_format(sc: SoundCloudReplica, world: GraphWorld) -> None:
    uid = world.account_ids[0]
    pages = walk(sc, f"/users/{uid}/likes?limit=20&linked_partitioning=1")
    hrefs = [p["next_href"] for p in pages if p["next_href"]]
    assert len(hrefs) >= 3 and pages[-1]["next_href"] is None
    for href in hrefs:
        parts = urlsplit(href)
        assert parts.path == f"/users/{uid}/likes" and "client_id" not in href
        q = parse_qs(parts.query)
        assert set(q) == {"offset", "limit"} and q["limit"] == ["20"]
        m = LIKES_CURSOR.match(q["offset"][0])
        assert m and int(m.group(2)) == uid
        assert "%2C" in href and "%3A" in href  # encoded like the recorded one
    reposts = walk(sc, f"/stream/users/{uid}/reposts?limit=10&offset=0&linked_partitioning=1")
    for p in reposts[:-1]:
        assert REPOSTS_CURSOR.match(parse_qs(urlsplit(p["next_href"]).query)["offset"][0])
    follows = walk(sc, f"/users/{uid}/followings?limit=10")
    assert len(follows) >= 4 and all(re.fullmatch(r"[A-Za-z0-9_-]+", parse_qs(urlsplit(p["next_href"]).query)
                                                  ["offset"][0]) for p in follows[:-1])
    comments = walk(sc, f"/users/{uid}/comments?limit=10")
    offsets = [int(parse_qs(urlsplit(p["next_href"]).query)["offset"][0]) for p in comments[:-1]]
    assert offsets == sorted(set(offsets)) and 0 < offsets[0] <= 10
    # default limits: likes 20, reposts 10, comments 10, followings 50
    assert len(api(sc, f"/users/{uid}/likes")[1]["collection"]) <= 20
    assert len(api(sc, f"/stream/users/{uid}/reposts")[1]["collection"]) <= 10
    assert api(sc, f"/users/{uid}/likes?offset=garbage")[0] == 400


def test_short_pages_and_one_empty_page_per_list(sc: SoundCloudReplica, world: GraphWorld) -> None:
    uid = world.account_ids[3]
    for kind in ("like", "repost", "follow", "comment"):
        pages = walk(sc, PATHS[kind].format(uid) + "?limit=5")
        body = pages if kind != "repost" else pages[:-1]
        assert any(p["next_href"] and not p["collection"] for p in body), kind
        assert any(p["next_href"] and 0 < len(p["collection"]) < 5 for p in body), kind
    with SoundCloudReplica(world, Quirks(graph_short_pages=False)) as full:
        pages = walk(full, f"/users/{uid}/likes?limit=5")
        assert all(len(p["collection"]) == 5 for p in pages[:-1]) and pages[-1]["next_href"] is None


@pytest.mark.parametrize("short", [True, False])
def test_union_of_pages_is_exactly_the_ground_truth(world: GraphWorld, short: bool) -> None:
    with SoundCloudReplica(world, Quirks(graph_short_pages=short, tiny_repost_pages=not short)) as sc:
        for uid, limit in zip(world.account_ids[:4], (1, 7, 50, 200), strict=True):
            for kind in ("like", "repost", "follow", "comment"):
                got = edges_from_pages(kind, uid, walk(sc, PATHS[kind].format(uid) + f"?limit={limit}"))
                want = truth(world, uid, kind)
                if kind == "follow":
                    assert got == want, (uid, kind, limit)
                else:
                    assert got == [{k: w[k] for k in got[0]} for w in want], (uid, kind, limit)
            followers = [u["id"] for p in walk(sc, f"/users/{uid}/followers?limit={limit}") for u in p["collection"]]
            assert followers == world.followers(uid)


def test_repost_last_page_repeats_itself_and_tiny_pages() -> None:
    world = GraphWorld(GraphWorldConfig(accounts=3, population=60, reposts_per_account=23))
    uid = world.account_ids[0]
    with SoundCloudReplica(world, Quirks(tiny_repost_pages=True)) as sc:
        url = f"{sc.urls['api']}/stream/users/{uid}/reposts?limit=200&offset=0&linked_partitioning=1"
        items, last = [], None
        for _ in range(20):
            status, page = fetch(with_cid(url, sc))
            assert status == 200 and len(page["collection"]) <= 10
            if page["next_href"] == url:  # points to itself: the last page
                last = page
                break
            items += page["collection"]
            url = page["next_href"]
        assert last is not None
        items += last["collection"]
        assert len(items) == 23 == len(world.interactions_of(uid, "repost"))
        again = fetch(with_cid(last["next_href"], sc))[1]
        assert again == last and again["next_href"] == last["next_href"]
        # a single-page feed: the first URL comes back, client_id removed, other params kept
        first = fetch(with_cid(f"{sc.urls['api']}/stream/users/{uid}/reposts?limit=50&linked_partitioning=1", sc))[1]
        assert first["next_href"] is not None and "client_id" not in first["next_href"]
    with SoundCloudReplica(world, Quirks(repeat_last_repost_page=False, graph_short_pages=False)) as sc:
        page = api(sc, f"/stream/users/{uid}/reposts?limit=200")[1]
        assert len(page["collection"]) == 23 and page["next_href"] is None


def test_deleted_objects_appear_as_null_or_stub(sc: SoundCloudReplica, world: GraphWorld) -> None:
    uid = world.account_ids[0]
    items = [it for p in walk(sc, f"/users/{uid}/likes?limit=200") for it in p["collection"]]
    objs = [it.get("track", it.get("playlist", "absent")) for it in items]
    assert "absent" not in objs
    nulls = [o for o in objs if o is None]
    stubs = [o for o in objs if o is not None and "user" not in o]
    assert nulls and stubs and all(set(s) == {"id", "kind"} for s in stubs)
    dead = [r for r in world.interactions_of(uid, "like") if r["deleted"]]
    assert len(dead) == len(nulls) + len(stubs) == 60 // 9
    assert all(r["target_user_id"] is None for r in dead)
    assert {r["object_id"] for r in dead if r["object_id"]} == {s["id"] for s in stubs}
    reposts = [it for p in walk(sc, f"/stream/users/{uid}/reposts?limit=200") for it in p["collection"]]
    assert any(it.get("track", it.get("playlist")) is None for it in reposts)


def test_missing_user_answers_404_everywhere() -> None:
    base = GraphWorld(GraphWorldConfig(accounts=4, population=50))
    gone = base.account_ids[1]
    world = GraphWorld(GraphWorldConfig(accounts=4, population=50, missing_users=(gone,)))
    assert world.permalink(gone) == base.permalink(gone) and gone not in world.account_ids
    assert world.interactions_of(gone) == [] and world.user(gone) is None
    with SoundCloudReplica(world) as sc:
        for path in ("/users/{}", *PATHS.values()):
            status, body = api(sc, path.format(gone))
            assert (status, body) == (404, {}), path
        status, body = api(sc, "/resolve?url=" + quote(f"https://soundcloud.com/{world.permalink(gone)}", safe=""))
        assert (status, body) == (404, {})
        assert api(sc, "/users/999999999999/likes")[0] == 404
        assert api(sc, "/resolve?url=" + quote("https://soundcloud.com/nobody-here-123", safe=""))[0] == 404
        other = world.account_ids[0]
        assert api(sc, f"/users/{other}")[0] == 200


# --- explicit graphs ------------------------------------------------------------------------

def test_from_edges_serves_exactly_the_given_edges() -> None:
    users = {101: 5000, 202: 12, 303: 1_200_000, 404: 0}
    edges = [(101, "like", 202), (101, "like_playlist", 303), (101, "follow", 303), (101, "repost", 303),
             (101, "repost_playlist", 202), (101, "comment", 303), (101, "comment", 303), (202, "follow", 101),
             (202, "like", 101), (303, "follow", 101), (101, "follow", 202), (101, "like", 404)]
    world = GraphWorld.from_edges(users, edges, permalinks={303: "big-star"})
    assert sorted(world.account_ids) == [101, 202, 303]
    assert world.permalink(303) == "big-star" and world.user_id_by_permalink("Big-Star") == 303
    assert [r["target_user_id"] for r in world.interactions_of(101, "like")] == [404, 303, 202]
    assert [r["object_kind"] for r in world.interactions_of(101, "like")] == ["track", "playlist", "track"]
    assert [r["object_id"] for r in world.interactions_of(101, "comment")] == [500_000_006, 500_000_005]
    assert world.followers(101) == [303, 202] and world.followers(303) == [101]
    with SoundCloudReplica(world) as sc:
        for uid in users:
            for kind in ("like", "repost", "follow", "comment"):
                got = edges_from_pages(kind, uid, walk(sc, PATHS[kind].format(uid) + "?limit=2"))
                assert [(g["kind"], g["target_user_id"], g["object_id"]) for g in got] == [
                    (r["kind"], r["target_user_id"], r["object_id"]) for r in world.interactions_of(uid, kind)]
        served = {(uid, r["kind"], r["target_user_id"], r["object_kind"]) for uid in users
                  for r in world.interactions_of(uid)}
        given = {(s, k.split("_")[0], t, "playlist" if k.endswith("playlist") else None if k == "follow" else "track")
                 for s, k, t in edges}
        assert served == given
        status, user = api(sc, "/resolve?url=" + quote("https://soundcloud.com/big-star", safe=""))
        assert status == 200 and user["id"] == 303 and user["followers_count"] == 1_200_000
        assert user["followings_count"] == 1 and api(sc, "/users/404")[1]["likes_count"] == 0
        assert sc.stats["api_user_likes"] >= 4 and sc.stats["api_user_reposts"] >= 4
        assert sc.stats["api_user_followings"] >= 4 and sc.stats["api_user_comments"] >= 4


# --- generation ----------------------------------------------------------------------------

def test_generated_world_is_deterministic_skewed_and_communal() -> None:
    cfg = GraphWorldConfig(seed=9, accounts=40, population=2000)
    a, b = GraphWorld(cfg), GraphWorld(cfg)
    uid = a.account_ids[5]
    assert a.account_ids == b.account_ids and a.interactions_of(uid) == b.interactions_of(uid)
    assert a.user(uid) == b.user(uid)
    followers = [a.followers_count(u) for u in a.account_ids]
    assert min(followers) < 250 < max(followers) and max(followers) > 1_000_000
    assert a.followers_count(a.user_id_by_permalink(a.seeds(1)[0])) == max(followers)  # type: ignore[arg-type]
    counts = {k: len(a.interactions_of(uid, k)) for k in ("like", "repost", "follow", "comment")}
    assert counts == {"like": 40, "repost": 20, "follow": 30, "comment": 15}
    share = sum(r["object_kind"] == "playlist" for r in a.interactions_of(uid, "like")) / 40
    assert share == pytest.approx(0.2, abs=0.03)
    # mostly inside the own community (community = index % communities)
    same = total = 0
    for u in a.account_ids[:10]:
        for r in a.interactions_of(u):
            total += 1
            same += a._idx(r["target_user_id"]) % 4 == a._idx(u) % 4  # type: ignore[operator]
    assert same / total > 0.75


def test_big_world_builds_fast_and_serves_one_account_quickly() -> None:
    t0 = time.perf_counter()
    world = GraphWorld(GraphWorldConfig(accounts=2000, population=150_000, likes_per_account=500,
                                        reposts_per_account=500, followings_per_account=300,
                                        comments_per_account=200))
    built = time.perf_counter() - t0
    assert built < 1.0, built
    uid = world.account_ids[0]
    with SoundCloudReplica(world, Quirks()) as sc:
        t0 = time.perf_counter()
        items = [it for p in walk(sc, f"/users/{uid}/likes?limit=200") for it in p["collection"]]
        served = time.perf_counter() - t0
    assert len(items) == 500 and served < 1.0, served


def test_quirks_gate_the_graph_routes() -> None:
    world = GraphWorld(GraphWorldConfig(accounts=3, population=60))
    uid = world.account_ids[0]
    with SoundCloudReplica(world, Quirks(error_5xx_every=1, malformed_json_every=2)) as sc:
        assert fetch(f"{sc.urls['api']}/users/{uid}/likes?client_id=stale")[0] == 401
        url = with_cid(f"{sc.urls['api']}/users/{uid}/followings", sc)
        assert fetch(url)[0] == 502 and fetch(url)[0] == 200
        likes = with_cid(f"{sc.urls['api']}/users/{uid}/likes", sc)
        assert fetch(likes)[0] == 502
        with pytest.raises(json.JSONDecodeError):
            fetch(likes)  # then truncated JSON, then fine
        assert fetch(likes)[0] == 200
        stats = fetch(sc.urls["api"] + "/__replica__/stats")[1]
        assert stats["api_user_likes"] == 4 and stats["faults_502"] == 2 and stats["faults_malformed"] == 1
        assert stats["client_id_rejected"] == 1
    with SoundCloudReplica(world, Quirks(rate_limit=(2, 60))) as sc:
        codes = [api(sc, f"/users/{uid}/comments")[0] for _ in range(3)]
        assert codes == [200, 200, 429]


def test_graph_alongside_a_world() -> None:
    from replicas.soundcloud import WorldConfig, build_world

    world = build_world(WorldConfig(artists=2, tracks_per_artist=3))
    graph = GraphWorld.from_edges({7: 300, 8: 10}, [(7, "follow", 8), (8, "like", 7)])
    with SoundCloudReplica(world, Quirks(datadome=False), graph=graph) as sc:
        artist = world.artists[0]
        assert api(sc, "/resolve?url=" + quote(artist["permalink_url"], safe=""))[1]["id"] == artist["id"]
        assert api(sc, "/resolve?url=" + quote(f"{sc.urls['web']}/{graph.permalink(8)}", safe=""))[1]["id"] == 8
        assert api(sc, f"/users/{artist['id']}/tracks")[0] == 200
        assert [u["id"] for u in api(sc, "/users/7/followings")[1]["collection"]] == [8]
        assert api(sc, f"/users/{artist['id']}/likes")[0] == 404  # World artists have no graph lists


def test_profile_page_of_a_graph_user(sc: SoundCloudReplica, world: GraphWorld) -> None:
    uid = world.account_ids[0]
    with urllib.request.urlopen(f"{sc.urls['web']}/{world.permalink(uid)}/likes", timeout=5) as r:
        html = r.read().decode()
    assert f'"id":{uid}' in html and "apiClient" in html


def test_cli_graph_mode_prints_seeds_and_serves() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "replicas.soundcloud", "--graph", "--accounts", "30",
                             "--population", "600", "--likes", "25", "--reposts", "12", "--followings", "8",
                             "--comments", "5", "--no-graph-short-pages", "--seeds", "3"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "PYTHONHASHSEED": "0"})
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert set(info) >= {"web", "api", "assets", "images", "seeds", "client_id", "counts"}
        assert len(info["seeds"]) == 3 and info["counts"]["accounts"] == 30
        cid = info["client_id"]
        status, user = fetch(f"{info['api']}/resolve?url={quote(info['web'] + '/' + info['seeds'][0], safe='')}"
                             f"&client_id={cid}")
        assert status == 200 and user["followers_count"] >= 250
        status, page = fetch(f"{info['api']}/users/{user['id']}/likes?limit=200&client_id={cid}")
        assert status == 200 and len(page["collection"]) == 25 and page["next_href"] is None
        assert unquote(page["collection"][0]["track" if "track" in page["collection"][0] else "playlist"]
                       ["permalink_url"]).startswith(info["web"])
    finally:
        proc.terminate()
        assert proc.wait(10) == 0
