"""A community interaction graph for the SoundCloud replica (``soundcloud_graph``).

Who likes, reposts, follows and comments on whom.  Two ways to get one:

* ``build`` a random world: ``GraphWorld(GraphWorldConfig(accounts=200, ...))``.
  Only small per-user arrays are generated up front (followers counts and
  sampling weights); every account's lists are generated **lazily** from
  ``(seed, kind, user id)`` when first asked for, and kept in a small LRU.
  A 150,000-user population with 2,000 accounts builds in well under a second.
* ``GraphWorld.from_edges(users, edges)``: exactly the given edges, for tests.

What the replica serves is the world's ground truth: ``interactions_of(id)``
lists exactly the items a client reading every page of ``/users/{id}/likes``,
``/stream/users/{id}/reposts``, ``/users/{id}/followings`` and
``/users/{id}/comments`` sees (deleted objects included, flagged
``deleted=True`` without a target).  Besides those, each raw list holds a few
*filtered* entries (likes of tracks gone private, comments on deleted tracks,
deactivated followings) that the API drops after cutting the page window:
they make pages shorter than ``limit`` and one empty page with a ``next_href``
per list (``Quirks.graph_short_pages``), and are never part of the truth.

Who is popular: ``followers_count`` is the user's audience size and is
unrelated to the length of ``/users/{id}/followers``.  Accounts (the visited
core): one star, a few more millions, 20% below 250, the rest a power law above
250.  The rest of the population (the long tail): a power law, mostly tiny,
about 2% above 250, at most 20,000.  A share ``account_share`` of all
interactions targets accounts, weighted by sqrt(followers) and mostly within
the source's community (``user index % communities``), so a crawl that follows
the most-interacted-with users visits accounts, not the empty tail.

Followers: ``/users/{id}/followers`` lists the accounts whose followings
contain ``id`` (the inverse of the follow edges), newest first; built once on
first need (~2.5 s for 600,000 follow edges; ``warm()`` builds it ahead).
Users who are not accounts have no interactions (empty lists, zero
``likes_count``/``followings_count``/``comments_count``).
Missing users (``missing_users``): 404 ``{}`` on ``/users/{id}``, on all of
their lists and on resolve; nothing of theirs is in the ground truth and they
are not in ``account_ids``; they still appear as owners/targets in other
users' lists (like banned users whose content lingers).
"""

from __future__ import annotations

import base64
import bisect
import calendar
import hashlib
import itertools
import json
import math
import random
import threading
import time
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from replicas.soundcloud.world import (
    _ADJ,
    _COMMENT_BODIES,
    _DJ_TITLES,
    _FIRST,
    _GENRES,
    _LABELS,
    _LAST,
    _LOWER_ALNUM,
    _NOUN,
    _PLACES,
    _TITLE_A,
    _TITLE_B,
    _TITLE_SUFFIX,
    _UNICODE_NAMES,
    NOW,
    REAL_URLS,
    _description,
    _rng,
    _tag_list,
    _token,
    _uuid,
    iso,
    slugify,
)

__all__ = ["GRAPH_KINDS", "LIST_KINDS", "GraphWorld", "GraphWorldConfig", "RawList", "iso_msec"]

# Ground-truth interaction kinds and the API list each one comes from.
GRAPH_KINDS = ("like", "repost", "follow", "comment")
LIST_KINDS = {"like": "likes", "repost": "reposts", "follow": "followings", "comment": "comments"}

_SITE_START = calendar.timegm((2008, 1, 1, 0, 0, 0))
_USERS_END = calendar.timegm((2018, 6, 30, 0, 0, 0))
_TRACKS_START = calendar.timegm((2010, 1, 1, 0, 0, 0))
_TRACKS_END = calendar.timegm((2018, 12, 31, 0, 0, 0))
_ACTIVITY_START = calendar.timegm((2019, 1, 1, 0, 0, 0))  # every interaction is newer than every object
_EDGES_START = calendar.timegm((2020, 1, 1, 0, 0, 0))

# Raw-entry flags.
HIDDEN, DELETED, PLAYLIST, NULLED = 1, 2, 4, 8

# Live object ids: a bijection of (user index, slot) so ids are unique, stable
# and look random.  Slots: tracks 0..59, playlists 0..15.
_MOD = 2 ** 31
_A_TRACK, _A_PLAYLIST = 506_952_113, 1_103_515_245
_TRACK_BASE, _PLAYLIST_BASE = 100_000_000, 10_000_000
# Reserved ids (deleted objects, filtered entries) live above every live id.
_RESERVED_BASE = 3_000_000_000
_NS = {"del-likes": 0, "del-reposts": 1, "hid-likes": 2, "hid-reposts": 3, "hid-followings": 4,
       "hid-followers": 5, "hid-comments": 6, "hid-comment-track": 7}
_COMMENT_BASE = 1_500_000_000
# from_edges ids: base + index of the edge in the list given.
FE_TRACK_BASE, FE_PLAYLIST_BASE, FE_COMMENT_BASE = 500_000_000, 600_000_000, 700_000_000

_MAXT = (1 << 41) - 1
_MAXI = (1 << 24) - 1


def iso_msec(t_ms: int) -> str:
    """Cursor datetime with real milliseconds: ``2025-11-08T10:30:30.218Z``."""
    return iso(t_ms // 1000)[:-1] + f".{t_ms % 1000:03d}Z"


def _parse_iso_ms(text: str) -> int | None:
    try:
        secs = calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return None
    ms = 0
    if len(text) > 20 and text[19] == ".":
        frac = text[20:].rstrip("Z")[:3]
        if not frac.isdigit():
            return None
        ms = int(frac.ljust(3, "0"))
    return secs * 1000 + ms


def _h(*parts: object) -> int:
    return int.from_bytes(hashlib.blake2b(repr(parts).encode(), digest_size=8).digest(), "big")


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_FIRST_SLUG = [slugify(x) for x in _FIRST]
_LAST_SLUG = [slugify(x) for x in _LAST]
_ADJ_SLUG = [slugify(x) or "an" for x in _ADJ]
_NOUN_SLUG = [slugify(x) for x in _NOUN]
_UNI_SLUG = [slugify(x) or "sound" for x in _UNICODE_NAMES]
_WORDS = ["music", "beats", "sound", "official", "records", "audio"]
_B64_ALNUM = str.maketrans("+/=", "aZQ")
_JWT_HEAD = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9"


def _tok(rng: random.Random, n: int) -> str:
    """``n`` random [A-Za-z0-9] characters (cheaper than ``_token``)."""
    return base64.b64encode(rng.randbytes(n)).decode()[:n].translate(_B64_ALNUM)


def _jwt(rng: random.Random, tid: int) -> str:
    body = f'{{"geo":"DE","sub":"","rid":"{_uuid(rng)}","iat":{NOW - tid % 86400}}}'
    return f"{_JWT_HEAD}.{base64.urlsafe_b64encode(body.encode()).decode().rstrip('=')}.{_tok(rng, 43)}"


def _with_user(obj: dict[str, Any], user_json: str) -> str:
    """Compact JSON of ``obj`` with ``"user":<user_json>`` appended (the mini
    user is cached as JSON: no decode/re-encode per embedding)."""
    return _dumps(obj)[:-1] + ',"user":' + user_json + "}"


# --- configuration ---------------------------------------------------------------------

@dataclass(frozen=True)
class GraphWorldConfig:
    """Shape of a generated interaction graph (all counts are per account and exact)."""

    seed: int = 1
    accounts: int = 200  # users that have interactions
    population: int | None = None  # all users incl. never-visited targets (default accounts*20)
    likes_per_account: int = 40
    reposts_per_account: int = 20
    followings_per_account: int = 30
    comments_per_account: int = 15
    playlist_share: float = 0.2  # share of likes/reposts that are playlists
    communities: int = 4  # accounts mostly interact inside their own community
    deleted_every: int | None = None  # every N-th like/repost (newest first) is a deleted object
    missing_users: tuple[int, ...] = ()  # ids whose /users/{id}* answer 404 {}
    in_community: float = 0.85  # probability that a target is drawn from the own community
    # Share of interactions aimed at accounts (the core a crawl visits); the
    # rest go to anyone in the population (the long tail of never-visited users).
    account_share: float = 0.6
    filtered_every: int | None = 25  # ~1 filtered (never shown) raw entry per N items

    @property
    def population_size(self) -> int:
        pop = self.population if self.population is not None else self.accounts * 20
        return max(pop, self.accounts, 2)


# --- raw lists ------------------------------------------------------------------------------

class RawList:
    """One user's list as the API pages it: raw entries newest first, sorted
    by ``(t, key)`` descending, filtered entries included.

    ``t``: ms epoch; ``key``: object id (likes/reposts), user id (followings,
    followers) or comment id; ``owner``: target user id (0 when deleted or
    filtered); ``obj``: commented track id (comments only); ``flags``: HIDDEN,
    DELETED, PLAYLIST, NULLED; ``stop``: raw index of the filtered entry that
    yields the empty page (-1 if none)."""

    __slots__ = ("flags", "key", "obj", "owner", "stop", "t")

    def __init__(self) -> None:
        self.t = array("q")
        self.key = array("q")
        self.owner = array("q")
        self.obj = array("q")
        self.flags = bytearray()
        self.stop = -1

    def __len__(self) -> int:
        return len(self.t)

    def visible(self) -> list[int]:
        return [i for i, f in enumerate(self.flags) if not f & HIDDEN]

    def after(self, t: int, key: int) -> int:
        """Raw index of the first entry strictly after the cursor ``(t, key)``."""
        lo, hi = 0, len(self.t)
        ts, ks = self.t, self.key
        while lo < hi:
            mid = (lo + hi) // 2
            if (ts[mid], ks[mid]) >= (t, key):
                lo = mid + 1
            else:
                hi = mid
        return lo

    def window(self, start: int, limit: int, short_pages: bool) -> tuple[list[int], int]:
        """Visible raw indexes of the page starting at raw ``start`` and the raw
        end of its window.  Short pages: the window is ``limit`` raw entries
        (filtered ones dropped afterwards, so the page is shorter), cut before
        the ``stop`` entry; a window starting *at* ``stop`` is an empty page.
        Otherwise: exactly ``limit`` visible entries."""
        n = len(self.t)
        flags = self.flags
        if start >= n:
            return [], n
        if short_pages:
            if start == self.stop:
                return [], start + 1
            end = min(start + limit, n)
            if start < self.stop < end:
                end = self.stop
            return [i for i in range(start, end) if not flags[i] & HIDDEN], end
        chosen: list[int] = []
        i = start
        while i < n and len(chosen) < limit:
            if not flags[i] & HIDDEN:
                chosen.append(i)
            i += 1
        return chosen, i


def _assemble(entries: list[tuple[int, int, int, int, int]], rng: random.Random, filtered_every: int | None,
              hidden_key: Any) -> RawList:
    """Build a RawList from visible ``(t, key, owner, obj, flags)`` entries
    (sorted newest first) plus filtered entries between them."""
    out = RawList()
    n = len(entries)
    positions: list[int] = []
    if n >= 2:
        m = n // filtered_every if filtered_every else 0
        positions = [rng.randrange(1, n) for _ in range(m + 1)]  # first one = the empty-page stop
    stop_pos = positions[0] if positions else -1
    hid = set(positions)
    t_arr, k_arr, o_arr, b_arr, f_arr = out.t, out.key, out.owner, out.obj, out.flags
    m = 0
    for p, (t, key, owner, obj, flags) in enumerate(entries):
        if p in hid:
            prev = entries[p - 1][0]
            if prev - t >= 2:
                if p == stop_pos:
                    out.stop = len(t_arr)
                hk, hobj = hidden_key(m)
                m += 1
                t_arr.append((prev + t) // 2)
                k_arr.append(hk)
                o_arr.append(0)
                b_arr.append(hobj)
                f_arr.append(HIDDEN)
        t_arr.append(t)
        k_arr.append(key)
        o_arr.append(owner)
        b_arr.append(obj)
        f_arr.append(flags)
    return out


class _LRU:
    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[Any, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self.lock:
            v = self.data.get(key)
            if v is not None:
                self.data.move_to_end(key)
            return v

    def put(self, key: Any, value: Any) -> Any:
        with self.lock:
            self.data[key] = value
            if len(self.data) > self.size:
                self.data.popitem(last=False)
        return value

    def clear(self) -> None:
        with self.lock:
            self.data.clear()


# --- the world ---------------------------------------------------------------------------------

class GraphWorld:
    """Users, objects and interactions; lazily rendered JSON bound to ``urls``."""

    def __init__(self, config: GraphWorldConfig | None = None) -> None:
        cfg = config or GraphWorldConfig()
        self.config = cfg
        self.seed = cfg.seed
        self.urls: dict[str, str] = dict(REAL_URLS)
        self._lock = threading.RLock()
        self._explicit: dict[int, dict[str, RawList]] | None = None
        self._fe_objects: dict[int, dict[str, int]] = {}
        self._fe_counts: dict[int, dict[str, int]] = {}
        self._perm_override: dict[int, str] = {}
        self._perm_reverse: dict[str, int] = {}
        self._follow_index: tuple[array, array, array] | None = None
        self._lists = _LRU(2048)
        self._track_cache = _LRU(20_000)
        self._mini_cache = _LRU(40_000)
        self._full_cache = _LRU(10_000)
        self.missing: frozenset[int] = frozenset(cfg.missing_users)
        t0 = time.perf_counter()
        self._generate()
        self.build_seconds = time.perf_counter() - t0

    # -- eager part: ids, followers, sampling weights --------------------------------
    def _generate(self) -> None:
        cfg = self.config
        n = cfg.population_size
        rng = _rng(cfg.seed, "graph-population")
        step = max(1_900_000_000 // n, 1)
        self._ids = array("q", (100_000 + i * step + rng.randrange(step) for i in range(n)))
        pareto = rng.paretovariate
        # The long tail (never-visited users): power law, mostly tiny, ~2% above 250, none huge.
        followers = array("q", (min(int(pareto(1.1) * 6) - 6, 20_000) for _ in range(n)))
        acct = rng.sample(range(n), min(cfg.accounts, n))
        for k, idx in enumerate(acct):
            # Accounts: one star, a few more millions, 20% below 250 (a crawl
            # with min_followers=250 passes over them), the rest a power law above 250.
            if k == 0 or k % 97 == 3:
                followers[idx] = rng.randrange(1_000_000, 8_000_000)
            elif k % 10 in (1, 6):
                followers[idx] = rng.randrange(0, 250)
            else:
                followers[idx] = min(250 + int(pareto(0.9) * 300) - 300, 5_000_000)
        self._init_arrays(followers, acct)

    def _init_arrays(self, followers: array, acct: list[int]) -> None:
        n = len(self._ids)
        self._n = n
        self._followers = followers
        self._acct_idx = acct
        self._acct_ord = {idx: k for k, idx in enumerate(acct)}
        self._k = max(1, min(self.config.communities, n))
        k = self._k
        weights = [math.sqrt(f + 5) for f in followers]
        self._cum_all = list(itertools.accumulate(weights))
        self._cum = [list(itertools.accumulate(weights[c::k])) for c in range(k)]
        # The same over accounts only: (members, cumulative weights), per community and all.
        by_comm: list[list[int]] = [[] for _ in range(k)]
        for idx in sorted(acct):
            by_comm[idx % k].append(idx)
        self._acct_pool = [(m, list(itertools.accumulate(weights[i] for i in m))) for m in by_comm]
        everyone = sorted(acct)
        self._acct_all = (everyone, list(itertools.accumulate(weights[i] for i in everyone)))
        digits = max(5, len(str(n)))
        self._code_mod = 10 ** digits
        self._code_digits = digits
        self._code_inv = pow(7919, -1, self._code_mod)
        counts = [self.config.likes_per_account, self.config.reposts_per_account,
                  self.config.followings_per_account, self.config.comments_per_account]
        self._stride = max(4096, 1 << (2 * max([*counts, 1])).bit_length())

    # -- explicit graphs -------------------------------------------------------------------
    @classmethod
    def from_edges(cls, users: Mapping[int, int], edges: Iterable[tuple[int, str, int]],
                   permalinks: Mapping[int, str] | None = None, *, seed: int = 1,
                   missing_users: Iterable[int] = (), filtered_every: int | None = 25) -> GraphWorld:
        """A world with exactly these users (id -> followers_count) and edges
        ``(source, kind, target)``, kind in like | like_playlist | repost |
        repost_playlist | follow | comment.  Edges are chronological (a later
        edge is newer; edge ``i`` happens at 2020-01-01 + i*3607 s).  Every
        like/repost/comment edge gets its own object owned by the target:
        track ``500_000_000 + i``, playlist ``600_000_000 + i``, comment
        ``700_000_000 + i`` (``i`` = index of the edge in ``edges``)."""
        self = cls.__new__(cls)
        cfg = GraphWorldConfig(seed=seed, accounts=0, population=len(users), missing_users=tuple(missing_users),
                               filtered_every=filtered_every, communities=1)
        self.config = cfg
        self.seed = seed
        self.urls = dict(REAL_URLS)
        self._lock = threading.RLock()
        self._lists = _LRU(2048)
        self._track_cache = _LRU(20_000)
        self._mini_cache = _LRU(40_000)
        self._full_cache = _LRU(10_000)
        self.missing = frozenset(cfg.missing_users)
        self._follow_index = None
        ids = sorted(users)
        if not ids:
            raise ValueError("from_edges needs at least one user")
        self._ids = array("q", ids)
        followers = array("q", (int(users[u]) for u in ids))
        self._perm_override = {}
        self._perm_reverse = {}
        for uid, perm in (permalinks or {}).items():
            if uid not in users:
                raise ValueError(f"permalink for unknown user {uid}")
            low = perm.lower()
            if low in self._perm_reverse:
                raise ValueError(f"duplicate permalink {perm!r}")
            self._perm_override[uid] = perm
            self._perm_reverse[low] = uid
        per: dict[tuple[int, str], list[tuple[int, int, int, int, int]]] = {}
        followers_of: dict[int, list[tuple[int, int, int, int, int]]] = {}
        objects: dict[int, dict[str, int]] = {}
        counts: dict[int, dict[str, int]] = {}
        follows: set[tuple[int, int]] = set()
        for i, (src, kind, tgt) in enumerate(edges):
            if src not in users or tgt not in users:
                raise ValueError(f"edge {i} {(src, kind, tgt)}: unknown user")
            t = (_EDGES_START + i * 3607) * 1000 + (i * 37) % 1000
            c = counts.setdefault(src, {"likes": 0, "playlist_likes": 0, "reposts": 0, "followings": 0,
                                        "comments": 0})
            if kind in ("like", "like_playlist", "repost", "repost_playlist"):
                pl = kind.endswith("_playlist")
                oid = (FE_PLAYLIST_BASE if pl else FE_TRACK_BASE) + i
                objects.setdefault(tgt, {})[("p" if pl else "t") + str(oid)] = oid
                lst = "likes" if kind.startswith("like") else "reposts"
                per.setdefault((src, lst), []).append((t, oid, tgt, 0, PLAYLIST if pl else 0))
                c["playlist_likes" if kind == "like_playlist" else lst] += 1
            elif kind == "follow":
                if (src, tgt) in follows:
                    raise ValueError(f"edge {i}: {src} already follows {tgt}")
                if src == tgt:
                    raise ValueError(f"edge {i}: a user cannot follow themselves")
                follows.add((src, tgt))
                per.setdefault((src, "followings"), []).append((t, tgt, tgt, 0, 0))
                if src not in cfg.missing_users:
                    followers_of.setdefault(tgt, []).append((t, src, src, 0, 0))
                c["followings"] += 1
            elif kind == "comment":
                oid = FE_TRACK_BASE + i
                objects.setdefault(tgt, {})["t" + str(oid)] = oid
                per.setdefault((src, "comments"), []).append((t, FE_COMMENT_BASE + i, tgt, oid, 0))
                c["comments"] += 1
            else:
                raise ValueError(f"edge {i}: unknown kind {kind!r}")
        acct = [ids.index(u) for u in sorted({s for s, _ in per})]
        self._init_arrays(followers, acct)
        for uid, perm in self._perm_override.items():
            del self._perm_reverse[perm.lower()]
            other = self.user_id_by_permalink(perm)  # a generated permalink of someone else?
            self._perm_reverse[perm.lower()] = uid
            if other is not None and other != uid:
                raise ValueError(f"permalink {perm!r} of {uid} is the generated permalink of {other}")
        self._fe_objects = objects
        self._fe_counts = counts
        explicit: dict[int, dict[str, RawList]] = {}
        for (src, lst), entries in per.items():
            entries.sort(key=lambda e: (e[0], e[1]), reverse=True)
            explicit.setdefault(src, {})[lst] = _assemble(
                entries, _rng(seed, "fe", lst, src), filtered_every, self._hidden_keys(lst, self._idx(src)))
        for tgt, entries in followers_of.items():
            entries.sort(key=lambda e: (e[0], e[1]), reverse=True)
            explicit.setdefault(tgt, {})["followers"] = _assemble(
                entries, _rng(seed, "fe", "followers", tgt), filtered_every,
                self._hidden_keys("followers", self._idx(tgt)))
        self._explicit = explicit
        self.build_seconds = 0.0
        return self

    # -- binding ------------------------------------------------------------------------------
    def bind(self, urls: Mapping[str, str]) -> None:
        """Render every URL with these base URLs (keys web, api, assets, images)."""
        with self._lock:
            self.urls = {k: str(urls.get(k, REAL_URLS[k])).rstrip("/") for k in REAL_URLS}
            self._track_cache.clear()
            self._mini_cache.clear()
            self._full_cache.clear()

    # -- users --------------------------------------------------------------------------------
    def _idx(self, uid: int) -> int | None:
        i = bisect.bisect_left(self._ids, uid)
        return i if i < self._n and self._ids[i] == uid else None

    def __contains__(self, user_id: object) -> bool:
        """``id in world``: the id belongs to the population (missing users included)."""
        return isinstance(user_id, int) and self._idx(user_id) is not None

    def has_user(self, user_id: int) -> bool:
        """True if ``/users/{id}`` answers 200 (in the population and not missing)."""
        return self._idx(user_id) is not None and user_id not in self.missing

    def is_missing(self, user_id: int) -> bool:
        return user_id in self.missing

    @property
    def population(self) -> int:
        return self._n

    @property
    def user_ids(self) -> array:
        """Every user id of the population, ascending (incl. missing users)."""
        return self._ids

    @property
    def account_ids(self) -> list[int]:
        """Users that have interactions (missing users excluded: nothing of theirs can be read)."""
        return [self._ids[i] for i in self._acct_idx if self._ids[i] not in self.missing]

    def is_account(self, user_id: int) -> bool:
        idx = self._idx(user_id)
        return idx is not None and idx in self._acct_ord and user_id not in self.missing

    def followers_count(self, user_id: int) -> int:
        idx = self._idx(user_id)
        if idx is None:
            raise KeyError(user_id)
        return self._followers[idx]

    def seeds(self, n: int = 5) -> list[str]:
        """Permalinks of the ``n`` accounts with the most followers."""
        best = sorted(self.account_ids, key=lambda u: (-self.followers_count(u), u))
        return [self.permalink(u) for u in best[:n]]

    def _uhash(self, idx: int) -> int:
        return _h(self.seed, "u", idx)

    def _names(self, idx: int) -> tuple[str, str, str, str]:
        """(username, first_name, last_name, permalink) of a user."""
        h = self._uhash(idx)
        code = f"{(idx * 7919 + 4111) % self._code_mod:0{self._code_digits}d}"
        fi, la = (h >> 8) % len(_FIRST), (h >> 16) % len(_LAST)
        first, last = _FIRST[fi], _LAST[la]
        style = h % 7
        if style == 0:
            user, perm, first, last = f"user{code}", f"user{code}", "", ""
        elif style == 1:
            user, perm = f"{first} {last}", f"{_FIRST_SLUG[fi]}-{_LAST_SLUG[la]}-{code}"
        elif style == 2:
            user, perm, last = first, f"{_FIRST_SLUG[fi]}{code}", ""
        elif style == 3:
            user, perm = f"DJ {first}", f"dj-{_FIRST_SLUG[fi]}-{code}"
            first, last = ("", "") if (h >> 24) % 2 else (first, last)
        elif style == 4:
            a, b = (h >> 24) % len(_ADJ), (h >> 32) % len(_NOUN)
            user, perm, first, last = f"{_ADJ[a]} {_NOUN[b]}", f"{_ADJ_SLUG[a]}-{_NOUN_SLUG[b]}-{code}", "", ""
        elif style == 5:
            w = _WORDS[(h >> 24) % len(_WORDS)]
            user, perm, last = f"{first.upper()} {w.upper()}", f"{_FIRST_SLUG[fi]}_{w}{code}", ""
        else:
            u = (h >> 24) % len(_UNICODE_NAMES)
            user, perm, first, last = _UNICODE_NAMES[u], f"{_UNI_SLUG[u]}-{code}", "", ""
        uid = self._ids[idx]
        if uid in self._perm_override:
            perm = self._perm_override[uid]
        return user, first, last, perm

    def permalink(self, user_id: int) -> str:
        idx = self._idx(user_id)
        if idx is None:
            raise KeyError(user_id)
        return self._names(idx)[3]

    def user_id_by_permalink(self, permalink: str) -> int | None:
        """Reverse of ``permalink`` (case-insensitive); missing users included."""
        low = permalink.lower()
        uid = self._perm_reverse.get(low)
        if uid is not None:
            return uid
        d = self._code_digits
        code = low[-d:]
        if len(low) <= d or not code.isdigit() or (len(low) > d and low[-d - 1].isdigit()):
            return None
        idx = ((int(code) - 4111) * self._code_inv) % self._code_mod
        if idx >= self._n or self._names(idx)[3].lower() != low:
            return None
        return self._ids[idx]

    def _created(self, idx: int) -> int:
        return _SITE_START + (idx * (_USERS_END - _SITE_START)) // self._n + self._uhash(idx) % 86400

    def _n_tracks(self, idx: int) -> int:
        return 1 + (self._uhash(idx) >> 40) % 40

    def _n_playlists(self, idx: int) -> int:
        return 1 + (self._uhash(idx) >> 48) % 6

    def _counts_of(self, idx: int) -> dict[str, int]:
        uid = self._ids[idx]
        if self._explicit is not None:
            return self._fe_counts.get(uid, {})
        if idx not in self._acct_ord or uid in self.missing:
            return {}
        cfg = self.config
        n_pl = round(cfg.likes_per_account * cfg.playlist_share)
        return {"likes": cfg.likes_per_account - n_pl, "playlist_likes": n_pl,
                "followings": min(cfg.followings_per_account, self._n - 1),
                "comments": cfg.comments_per_account}

    def _render_user(self, idx: int, full: bool) -> dict[str, Any]:
        uid = self._ids[idx]
        web, api, images = self.urls["web"], self.urls["api"], self.urls["images"]
        username, first, last, perm = self._names(idx)
        rng = _rng(self.seed, "graph-user", uid)
        city, cc = rng.choice(_PLACES)
        r = rng.random()
        if r < 0.2:
            avatar = f"{images}/images/default_avatar_large.png"
        elif r < 0.6:
            avatar = f"{images}/avatars-{_tok(rng, 16)}-{_tok(rng, 7)}-large.jpg"
        else:
            avatar = f"{images}/avatars-000{rng.randrange(10**8, 10**9)}-{_token(rng, 6, _LOWER_ALNUM)}-large.jpg"
        followers = self._followers[idx]
        verified = followers > 200_000 or rng.random() < 0.03
        pro = rng.random() < 0.2
        created = self._created(idx)
        last_modified = created + rng.randrange(NOW - created)
        badges = {"pro": False, "creator_mid_tier": False, "pro_unlimited": pro, "verified": verified}
        full_name = f"{first} {last}".strip()
        uri = f"{api}/users/soundcloud%3Ausers%3A{uid}"
        if not full:
            return {
                "avatar_url": avatar, "first_name": first, "followers_count": followers,
                "full_name": full_name, "id": uid, "kind": "user", "last_modified": iso(last_modified),
                "last_name": last, "permalink": perm, "permalink_url": f"{web}/{perm}", "uri": uri,
                "urn": f"soundcloud:users:{uid}", "username": username, "verified": verified,
                "city": city, "country_code": cc, "badges": badges,
                "station_urn": f"soundcloud:system-playlists:artist-stations:{uid}",
                "station_permalink": f"artist-stations:{uid}",
            }
        visuals = None
        if rng.random() < 0.4:
            visuals = {"urn": f"soundcloud:users:{uid}", "enabled": True,
                       "visuals": [{"urn": f"soundcloud:visuals:{rng.randrange(10**7, 3 * 10**8)}", "entry_time": 0,
                                    "visual_url": f"{images}/visuals-{uid:012d}-{_token(rng, 6)}-original.jpg"}],
                       "tracking": None}
        product = "creator-pro-unlimited" if pro else "free"
        c = self._counts_of(idx)
        return {
            "avatar_url": avatar, "city": city, "comments_count": c.get("comments", 0), "country_code": cc,
            "created_at": iso(created), "creator_subscriptions": [{"product": {"id": product}}],
            "creator_subscription": {"product": {"id": product}},
            "description": _description(rng, username, perm, city, rng.choice(_GENRES)),
            "followers_count": followers, "followings_count": c.get("followings", 0), "first_name": first,
            "full_name": full_name, "groups_count": 0, "id": uid, "kind": "user",
            "last_modified": iso(last_modified), "last_name": last, "likes_count": c.get("likes", 0),
            "playlist_likes_count": c.get("playlist_likes", 0), "permalink": perm,
            "permalink_url": f"{web}/{perm}", "playlist_count": self._n_playlists(idx) if self._explicit is None
            else sum(1 for k in self._fe_objects.get(uid, {}) if k[0] == "p"),
            "reposts_count": None,
            "track_count": self._n_tracks(idx) if self._explicit is None
            else sum(1 for k in self._fe_objects.get(uid, {}) if k[0] == "t"),
            "uri": uri, "urn": f"soundcloud:users:{uid}", "username": username, "verified": verified,
            "visuals": visuals, "badges": badges,
            "station_urn": f"soundcloud:system-playlists:artist-stations:{uid}",
            "station_permalink": f"artist-stations:{uid}", "date_of_birth": None,
        }

    def mini_user_json(self, user_id: int) -> str:
        s = self._mini_cache.get(user_id)
        if s is None:
            idx = self._idx(user_id)
            if idx is None:
                return "null"
            s = self._mini_cache.put(user_id, _dumps(self._render_user(idx, False)))
        return s

    def user_json(self, user_id: int) -> str | None:
        """Full user JSON (as ``/users/{id}``, followings, followers) or None
        for unknown ids.  Missing users still render (they appear in lists)."""
        s = self._full_cache.get(user_id)
        if s is None:
            idx = self._idx(user_id)
            if idx is None:
                return None
            s = self._full_cache.put(user_id, _dumps(self._render_user(idx, True)))
        return s

    def user(self, user_id: int) -> dict[str, Any] | None:
        """Full user dict as ``/users/{id}`` answers it (None if unknown or missing)."""
        if not self.has_user(user_id):
            return None
        return json.loads(self.user_json(user_id))  # type: ignore[arg-type]

    def mini_user(self, user_id: int) -> dict[str, Any] | None:
        """Mini user dict as embedded in tracks, playlists, reposts and comments."""
        if self._idx(user_id) is None:
            return None
        return json.loads(self.mini_user_json(user_id))

    # -- objects ---------------------------------------------------------------------------------
    def _track_id(self, idx: int, slot: int) -> int:
        return _TRACK_BASE + ((idx * 64 + slot) * _A_TRACK) % _MOD

    def _playlist_id(self, idx: int, slot: int) -> int:
        return _PLAYLIST_BASE + ((idx * 16 + slot) * _A_PLAYLIST) % _MOD

    def _reserved(self, ns: str, idx: int, k: int) -> int:
        return _RESERVED_BASE + ((_NS[ns] * self._n + idx) * self._stride + k)

    def _hidden_keys(self, lst: str, idx: int | None) -> Any:
        i = idx or 0

        def make(m: int) -> tuple[int, int]:
            if lst == "comments":
                return self._reserved("hid-comments", i, m), self._reserved("hid-comment-track", i, m)
            return self._reserved("hid-" + lst, i, m), 0
        return make

    def _duration(self, oid: int) -> int:
        h = _h(self.seed, "dur", oid)
        if h % 9 == 0:
            return 45 * 60_000 + (h >> 8) % (75 * 60_000)
        return 95_000 + (h >> 8) % 420_000

    def _object_created(self, oid: int, owner_idx: int) -> int:
        lo = max(self._created(owner_idx) + 86400, _TRACKS_START)
        return lo + _h(self.seed, "made", oid) % max(_TRACKS_END - lo, 1)

    def track_json(self, track_id: int, owner_id: int) -> str:
        """List-form track (mini owner) as embedded in likes, reposts, comments."""
        s = self._track_cache.get(("t", track_id))
        if s is None:
            s = self._track_cache.put(("t", track_id), _with_user(self._render_track(track_id, owner_id),
                                                                  self.mini_user_json(owner_id)))
        return s

    def playlist_json(self, playlist_id: int, owner_id: int) -> str:
        s = self._track_cache.get(("p", playlist_id))
        if s is None:
            s = self._track_cache.put(("p", playlist_id), _with_user(self._render_playlist(playlist_id, owner_id),
                                                                     self.mini_user_json(owner_id)))
        return s

    def _render_track(self, tid: int, owner_id: int) -> dict[str, Any]:
        web, api, images = self.urls["web"], self.urls["api"], self.urls["images"]
        owner_idx = self._idx(owner_id)
        assert owner_idx is not None
        username, _, _, owner_perm = self._names(owner_idx)
        rng = _rng(self.seed, "graph-track", tid)
        duration = self._duration(tid)
        created = self._object_created(tid, owner_idx)
        first = rng.choice(_FIRST)
        if duration >= 45 * 60_000:
            title = rng.choice(_DJ_TITLES).format(
                h=rng.randrange(2, 5), n=rng.randrange(1, 200), name=username, date=iso(created)[:10],
                year=iso(created)[:4], v=rng.randrange(1, 30), first=first)
            genre = "Mix"
        else:
            title = f"{rng.choice(_TITLE_A)} {rng.choice(_TITLE_B)}" + rng.choice(_TITLE_SUFFIX).format(first=first)
            genre = rng.choice(_GENRES)
        permalink = slugify(title) or f"track-{tid}"
        followers = self._followers[owner_idx]
        playback = int(followers * rng.uniform(0.02, 2.5)) + rng.randrange(5, 400)
        likes = playback // rng.randrange(15, 70)
        hidden = rng.random() < 0.1
        r = rng.random()
        policy, money = (("MONETIZE", rng.choice(["AD_SUPPORTED", "BLACKBOX"])) if r < 0.6
                         else ("ALLOW", "NOT_APPLICABLE") if r < 0.93
                         else ("SNIP", "SUB_HIGH_TIER") if r < 0.97 else ("BLOCK", "NOT_APPLICABLE"))
        u1, u2 = _uuid(rng), _uuid(rng)
        transcodings: list[dict[str, Any]] = []
        if policy != "BLOCK":
            snipped = policy == "SNIP"
            dur = 30000 if snipped else duration
            base = f"{api}/media/soundcloud:tracks:{tid}"
            transcodings = [
                {"url": f"{base}/{u1}/stream/hls", "preset": "mp3_1_0", "duration": dur, "snipped": snipped,
                 "format": {"protocol": "hls", "mime_type": "audio/mpeg"}, "quality": "sq",
                 "is_legacy_transcoding": True},
                {"url": f"{base}/{u1}/stream/progressive", "preset": "mp3_1_0", "duration": dur,
                 "snipped": snipped, "format": {"protocol": "progressive", "mime_type": "audio/mpeg"},
                 "quality": "sq", "is_legacy_transcoding": True},
                {"url": f"{base}/{u2}/stream/hls", "preset": "opus_0_0", "duration": dur, "snipped": snipped,
                 "format": {"protocol": "hls", "mime_type": 'audio/ogg; codecs="opus"'}, "quality": "sq",
                 "is_legacy_transcoding": True},
            ]
        artwork = None
        if rng.random() > 0.2:
            artwork = f"{images}/artworks-{_tok(rng, 12)}-0-large.jpg"
        desc_r = rng.random()
        description = (None if desc_r < 0.3 else "" if desc_r < 0.45 else
                       f"{title}\nOut now on all platforms.\nhttps://links.example.net/{permalink[:20]}")
        publisher = None
        if rng.random() < 0.3:
            publisher = {"id": tid, "urn": f"soundcloud:tracks:{tid}", "artist": username,
                         "album_title": title, "contains_music": True, "isrc": f"QZ{tid % 10**10:010d}",
                         "explicit": False, "release_title": title}
        return {
            "artwork_url": artwork, "caption": None, "commentable": True,
            "comment_count": None if hidden else rng.randrange(0, 60),
            "created_at": iso(created), "description": description, "downloadable": False,
            "download_count": 0, "duration": duration, "full_duration": duration, "embeddable_by": "all",
            "genre": genre, "has_downloads_left": False, "id": tid, "kind": "track",
            "label_name": rng.choice(_LABELS), "last_modified": iso(created + rng.randrange(0, 86400 * 30)),
            "license": "all-rights-reserved" if rng.random() < 0.85 else "cc-by-nc",
            "likes_count": None if hidden else likes, "permalink": permalink,
            "permalink_url": f"{web}/{owner_perm}/{permalink}",
            "playback_count": None if hidden else playback, "public": True, "publisher_metadata": publisher,
            "purchase_title": None, "purchase_url": None,
            "release_date": iso(created - created % 86400) if rng.random() < 0.25 else None,
            "reposts_count": None if hidden else likes // rng.randrange(4, 25), "secret_token": None,
            "sharing": "public", "state": "finished", "streamable": True, "tag_list": _tag_list(rng),
            "title": title, "uri": f"{api}/tracks/soundcloud%3Atracks%3A{tid}", "urn": f"soundcloud:tracks:{tid}",
            "user_id": owner_id, "visuals": None, "waveform_url": f"{images}/{_tok(rng, 12)}_m.json",
            "display_date": iso(created), "media": {"transcodings": transcodings},
            "station_urn": f"soundcloud:system-playlists:track-stations:{tid}",
            "station_permalink": f"track-stations:{tid}", "track_authorization": _jwt(rng, tid),
            "monetization_model": money, "policy": policy,
        }  # + "user" (mini owner), spliced in by track_json

    def _render_playlist(self, pid: int, owner_id: int) -> dict[str, Any]:
        web, api, images = self.urls["web"], self.urls["api"], self.urls["images"]
        owner_idx = self._idx(owner_id)
        assert owner_idx is not None
        owner_perm = self._names(owner_idx)[3]
        rng = _rng(self.seed, "graph-playlist", pid)
        created = self._object_created(pid, owner_idx)
        is_album = rng.random() < 0.3
        title = (f"{rng.choice(_ADJ)} {rng.choice(_NOUN)}" if is_album
                 else rng.choice(["Favourites", "Summer", "Night Drive", "Late Night", "Warm-up", "Gym",
                                  "Chill", "Set ideas"]) + f" {iso(created)[:4]}")
        permalink = slugify(title) or f"set-{pid}"
        n_tracks = rng.randrange(2, 90)
        published = created + rng.randrange(0, 86400 * 3)
        likes = int(self._followers[owner_idx] * rng.uniform(0.001, 0.2)) + rng.randrange(0, 40)
        return {
            "artwork_url": f"{images}/artworks-{_tok(rng, 16)}-{_tok(rng, 6)}-large.jpg"
            if rng.random() < 0.7 else None,
            "created_at": iso(created), "duration": n_tracks * rng.randrange(150_000, 300_000), "id": pid,
            "kind": "playlist", "last_modified": iso(created + rng.randrange(0, 86400 * 90)),
            "likes_count": likes, "managed_by_feeds": False, "permalink": permalink,
            "permalink_url": f"{web}/{owner_perm}/sets/{permalink}", "public": True,
            "reposts_count": likes // rng.randrange(5, 60), "secret_token": None, "sharing": "public",
            "title": title, "track_count": n_tracks, "uri": f"{api}/playlists/soundcloud%3Aplaylists%3A{pid}",
            "user_id": owner_id, "set_type": "album" if is_album else "", "is_album": is_album,
            "published_at": iso(published),
            "release_date": iso(published - published % 86400) if is_album else None,
            "display_date": iso(published),
        }  # + "user" (mini owner), spliced in by playlist_json

    # -- interaction lists ------------------------------------------------------------------------
    def raw_list(self, user_id: int, lst: str) -> RawList:
        """The raw list ``lst`` (likes, reposts, followings, followers, comments)
        of a user, generated on first use (empty for non-accounts)."""
        if lst not in ("likes", "reposts", "followings", "followers", "comments"):
            raise ValueError(lst)
        key = (user_id, lst)
        got = self._lists.get(key)
        if got is not None:
            return got
        if self._explicit is not None:
            got = (RawList() if user_id in self.missing
                   else self._explicit.get(user_id, {}).get(lst) or RawList())
        elif lst == "followers":
            got = self._gen_followers(user_id)
        else:
            got = self._gen_list(user_id, lst)
        return self._lists.put(key, got)

    def _times(self, rng: random.Random, idx: int, n: int) -> list[int]:
        lo = max(self._created(idx), _ACTIVITY_START) * 1000
        hi = (NOW - 3600) * 1000
        return sorted(rng.sample(range(lo, hi), n), reverse=True)

    def _pick(self, rng: random.Random, idx: int) -> int:
        """A target user index (never ``idx``): an account with probability
        ``account_share``, else anyone; mostly from idx's community; weighted
        by sqrt(followers)."""
        k = self._k
        rand = rng.random
        share = self.config.in_community
        to_accounts = self.config.account_share if len(self._acct_idx) > 1 else 0.0
        bisect_right = bisect.bisect_right
        for _ in range(1000):
            own = k > 1 and rand() < share
            if rand() < to_accounts:
                members, cum = self._acct_pool[idx % k] if own else self._acct_all
                if not members or (len(members) == 1 and members[0] == idx):
                    members, cum = self._acct_all
                j = bisect_right(cum, rand() * cum[-1])
                tgt = members[j if j < len(members) else len(members) - 1]
            elif own:
                c = idx % k
                cum = self._cum[c]
                j = bisect_right(cum, rand() * cum[-1])
                if j >= len(cum):
                    j = len(cum) - 1
                tgt = c + j * k
            else:
                cum = self._cum_all
                tgt = bisect_right(cum, rand() * cum[-1])
                if tgt >= self._n:
                    tgt = self._n - 1
            if tgt != idx:
                return tgt
        return (idx + 1) % self._n

    def _follow_targets(self, rng: random.Random, idx: int) -> tuple[list[int], list[int]]:
        """Follow times (newest first) and distinct target indexes of an account."""
        n = min(self.config.followings_per_account, self._n - 1)
        times = self._times(rng, idx, n)
        chosen: set[int] = set()
        out: list[int] = []
        for _ in range(n):
            for _ in range(100):
                o = self._pick(rng, idx)
                if o not in chosen:
                    break
            else:
                o = next(j for j in itertools.chain(range(rng.randrange(self._n), self._n), range(self._n))
                         if j != idx and j not in chosen)
            chosen.add(o)
            out.append(o)
        return times, out

    def _gen_list(self, uid: int, lst: str, store_hidden: bool = True) -> RawList:
        idx = self._idx(uid)
        if idx is None or idx not in self._acct_ord or uid in self.missing:
            return RawList()
        cfg = self.config
        ordinal = self._acct_ord[idx]
        rng = _rng(self.seed, "graph-list", lst, uid)
        ids = self._ids
        entries: list[tuple[int, int, int, int, int]] = []
        if lst in ("likes", "reposts"):
            n = cfg.likes_per_account if lst == "likes" else cfg.reposts_per_account
            times = self._times(rng, idx, n)
            n_pl = round(n * cfg.playlist_share)
            pl = set(rng.sample(range(n), n_pl)) if n_pl else set()
            seen: set[tuple[bool, int]] = set()
            every = cfg.deleted_every
            for k in range(n):
                is_pl = k in pl
                flags = PLAYLIST if is_pl else 0
                if every and (k + 1) % every == 0:
                    flags |= DELETED | (NULLED if (k // every) % 2 == 0 else 0)
                    entries.append((times[k], self._reserved("del-" + lst, idx, k), 0, 0, flags))
                    continue
                for _ in range(100):
                    o = self._pick(rng, idx)
                    oid = (self._playlist_id(o, rng.randrange(self._n_playlists(o))) if is_pl
                           else self._track_id(o, rng.randrange(self._n_tracks(o))))
                    if (is_pl, oid) not in seen:
                        break
                seen.add((is_pl, oid))
                entries.append((times[k], oid, ids[o], 0, flags))
        elif lst == "followings":
            times, targets = self._follow_targets(rng, idx)
            entries = [(t, ids[o], ids[o], 0, 0) for t, o in zip(times, targets, strict=True)]
        else:  # comments
            n = cfg.comments_per_account
            times = self._times(rng, idx, n)
            for k in range(n):
                o = self._pick(rng, idx)
                tid = self._track_id(o, rng.randrange(self._n_tracks(o)))
                cid = _COMMENT_BASE + ordinal * self._stride + (n - 1 - k)
                entries.append((times[k], cid, ids[o], tid, 0))
        return _assemble(entries, rng, cfg.filtered_every if store_hidden else None, self._hidden_keys(lst, idx))

    def _ensure_follow_index(self) -> tuple[array, array, array]:
        """(target index, time, source index) of every follow edge, sorted by
        target then newest first (built once, on first need: ~1 s for 600,000
        edges; ``warm()`` builds it ahead)."""
        with self._lock:
            if self._follow_index is not None:
                return self._follow_index
            packed: list[int] = []
            add = packed.append
            for idx in self._acct_idx:
                if self._ids[idx] in self.missing:
                    continue
                times, targets = self._follow_targets(_rng(self.seed, "graph-list", "followings", self._ids[idx]), idx)
                src = _MAXI - idx
                for t, tgt in zip(times, targets, strict=True):
                    add((tgt << 72) | ((_MAXT - t) << 24) | src)
            packed.sort()
            m24, m48 = (1 << 24) - 1, (1 << 48) - 1
            tg = array("l", [p >> 72 for p in packed])
            tt = array("q", [_MAXT - ((p >> 24) & m48) for p in packed])
            ss = array("l", [_MAXI - (p & m24) for p in packed])
            self._follow_index = (tg, tt, ss)
            return self._follow_index

    def warm(self) -> None:
        """Build the lazily built indexes now (e.g. in a background thread)."""
        if self._explicit is None:
            self._ensure_follow_index()

    def _gen_followers(self, uid: int) -> RawList:
        idx = self._idx(uid)
        if idx is None or uid in self.missing:
            return RawList()
        tg, tt, ss = self._ensure_follow_index()
        lo, hi = bisect.bisect_left(tg, idx), bisect.bisect_right(tg, idx)
        entries = [(tt[i], self._ids[ss[i]], self._ids[ss[i]], 0, 0) for i in range(lo, hi)]
        return _assemble(entries, _rng(self.seed, "graph-followers", uid), self.config.filtered_every,
                         self._hidden_keys("followers", idx))

    # -- items as served -------------------------------------------------------------------------
    def item_json(self, lst: str, user_id: int, raw: RawList, i: int) -> str:
        """Compact JSON of raw entry ``i`` of ``user_id``'s list ``lst``."""
        t, key, owner, flags = raw.t[i], raw.key[i], raw.owner[i], raw.flags[i]
        if flags & HIDDEN:  # never served (filtered after the window is cut)
            return "null"
        created = iso(t // 1000)
        if lst in ("followings", "followers"):
            return self.user_json(key) or "null"
        if lst == "comments":
            h = _h(self.seed, "comment", key)
            tid = raw.obj[i]
            stamp = None if (h >> 8) % 7 == 0 else h % max(self._duration(tid) - 1000, 1)
            body = _COMMENT_BODIES[(h >> 16) % len(_COMMENT_BODIES)]
            return (f'{{"kind":"comment","id":{key},"body":{_dumps(body)},"created_at":"{created}",'
                    f'"timestamp":{"null" if stamp is None else stamp},"track_id":{tid},"user_id":{user_id},'
                    f'"self":{{"urn":"soundcloud:comments:{key}"}},"user":{self.mini_user_json(user_id)},'
                    f'"track":{self.track_json(tid, owner)}}}')
        name = "playlist" if flags & PLAYLIST else "track"
        if flags & NULLED:
            obj = "null"
        elif flags & DELETED:
            obj = f'{{"id":{key},"kind":"{name}"}}'
        elif flags & PLAYLIST:
            obj = self.playlist_json(key, owner)
        else:
            obj = self.track_json(key, owner)
        if lst == "likes":
            return f'{{"created_at":"{created}","kind":"like","{name}":{obj}}}'
        hx = f"{t:016x}"
        uuid = f"{hx[:8]}-{hx[8:12]}-{hx[12:16]}-0000-{key % 16**12:012x}"
        return (f'{{"created_at":"{created}","type":"{name}-repost","{name}":{obj},'
                f'"user":{self.mini_user_json(user_id)},"uuid":"{uuid}","caption":null,'
                f'"reposted":{{"target_urn":"soundcloud:{name}s:{key}","user_urn":"soundcloud:users:{user_id}",'
                f'"caption":null}}}}')

    def cursor(self, lst: str, user_id: int, raw: RawList, i: int) -> str:
        """The ``offset`` value of a next_href whose page ended at raw entry ``i``."""
        t, key, flags = raw.t[i], raw.key[i], raw.flags[i]
        name = "playlist" if flags & PLAYLIST else "track"
        if lst == "likes":
            return f"{iso_msec(t)},user-{name}-likes,000-{user_id:020d}-{key:020d}"
        if lst == "reposts":
            return f"{iso_msec(t)},source:{name}:repost,{key:020d}"
        if lst == "comments":
            return str(i + 1)
        return base64.urlsafe_b64encode(f"{lst}|{t}|{key}".encode()).decode().rstrip("=")

    def resume(self, lst: str, raw: RawList, offset: str) -> int | None:
        """Raw index where the page for ``offset`` starts (None = invalid cursor)."""
        if offset in ("", "0"):
            return 0
        if offset.isdigit():
            return int(offset)
        if lst in ("likes", "reposts"):
            parts = offset.split(",")
            if len(parts) != 3:
                return None
            t = _parse_iso_ms(parts[0])
            tail = parts[2].rsplit("-", 1)[-1]
            ok = (parts[1] in ("user-track-likes", "user-playlist-likes") if lst == "likes"
                  else parts[1] in ("source:track:repost", "source:playlist:repost"))
            if t is None or not ok or not tail.isdigit():
                return None
            return raw.after(t, int(tail))
        if lst in ("followings", "followers"):
            try:
                name, t, key = base64.urlsafe_b64decode(offset + "=" * (-len(offset) % 4)).decode().split("|")
                return raw.after(int(t), int(key)) if name == lst else None
            except (ValueError, UnicodeDecodeError):
                return None
        return None

    # -- ground truth -------------------------------------------------------------------------------
    def interactions_of(self, user_id: int, kind: str | None = None) -> list[dict[str, Any]]:
        """Every interaction a client can read for ``user_id``, newest first:
        ``{"source_user_id","kind","target_user_id","object_id","created_at",
        "object_kind","deleted"}``.  Deleted objects have no target
        (``target_user_id`` None; ``object_id`` None when the API sent null)."""
        kinds = GRAPH_KINDS if kind is None else (kind,)
        out: list[tuple[int, int, dict[str, Any]]] = []
        for order, k in enumerate(kinds):
            if k not in LIST_KINDS:
                raise ValueError(f"unknown kind {k!r}")
            raw = self.raw_list(user_id, LIST_KINDS[k])
            for i in range(len(raw)):
                flags = raw.flags[i]
                if flags & HIDDEN:
                    continue
                deleted = bool(flags & DELETED)
                if k == "follow":
                    obj_id, obj_kind = None, None
                elif k == "comment":
                    obj_id, obj_kind = raw.obj[i], "track"
                else:
                    obj_id = None if flags & NULLED else raw.key[i]
                    obj_kind = "playlist" if flags & PLAYLIST else "track"
                out.append((raw.t[i], -order, {
                    "source_user_id": user_id, "kind": k,
                    "target_user_id": None if deleted else raw.owner[i],
                    "object_id": obj_id, "created_at": iso(raw.t[i] // 1000),
                    "object_kind": obj_kind, "deleted": deleted,
                }))
        out.sort(key=lambda e: (e[0], e[1]), reverse=True)
        return [d for _, _, d in out]

    def followers(self, user_id: int) -> list[int]:
        """Ids of the accounts following ``user_id``, newest follow first (as served)."""
        raw = self.raw_list(user_id, "followers")
        return [raw.key[i] for i in range(len(raw)) if not raw.flags[i] & HIDDEN]

    def counts(self) -> dict[str, int]:
        """Sizes of the world: accounts, population, and visible items per kind."""
        if self._explicit is not None:
            tot = {"likes": 0, "reposts": 0, "followings": 0, "comments": 0}
            for uid, c in self._fe_counts.items():
                if uid in self.missing:
                    continue
                tot["likes"] += c["likes"] + c["playlist_likes"]
                tot["reposts"] += c["reposts"]
                tot["followings"] += c["followings"]
                tot["comments"] += c["comments"]
        else:
            cfg = self.config
            n = len(self.account_ids)
            tot = {"likes": n * cfg.likes_per_account, "reposts": n * cfg.reposts_per_account,
                   "followings": n * min(cfg.followings_per_account, self._n - 1),
                   "comments": n * cfg.comments_per_account}
        return {"accounts": len(self.account_ids), "population": self._n, **tot}
