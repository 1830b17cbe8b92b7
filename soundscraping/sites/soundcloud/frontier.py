"""The graph crawl's frontier: accounts not yet visited, best first.

Two implementations behind one interface (``note_users``, ``add_many``,
``add_seed``, ``claim``, ``visit_done``, ``counts``, ``waiting`` ...): this
in-memory one for a single process, and ``frontier_redis.RedisFrontier``
shared by the workers of a distributed job (REDIS_URL).  The spider does not
know which it has.

An account's score is the sum of the weights of the interactions it received
from visited accounts, and it changes as the crawl goes on.  A max-heap with
lazy deletion gives the best account in O(log n) without re-sorting: every
score change pushes a fresh entry, and stale entries are skipped when popped
(and purged when they outnumber the live ones)."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# What one interaction from a visited account adds to the score of the
# account it points at: the default of the GRAPH_WEIGHTS setting (the graph
# crawl's visit order) and of the community map's edge weights.
INTERACTION_WEIGHTS: dict[str, float] = {"like": 1.0, "repost": 3.0, "follow": 3.0, "comment": 3.0}


@dataclass(frozen=True)
class AccountClaim:
    """An account to visit now: its score so far, its place in the visit
    order, and which attempt this is (more than 1: an earlier holder died)."""

    user_id: int
    score: float
    position: int
    attempt: int = 1


class Frontier:
    def __init__(self, min_followers: int = 0):
        self.min_followers = min_followers
        self.scores: dict[int, float] = {}
        self.followers: dict[int, int] = {}
        self.names: dict[int, str] = {}
        self.visited: set[int] = set()  # finished, restored or in progress
        self.in_progress: set[int] = set()
        self.passed_over: set[int] = set()  # too small (or size unknown) to visit
        self._heap: list[tuple[float, int]] = []
        self._seeds: list[int] = []
        self.next_position = 0

    # -- the interface the spider uses (shared with RedisFrontier) ------------------

    def note_users(self, users: Iterable[tuple[int, int | None, str | None]]) -> None:
        for user_id, followers, name in users:
            self.note_user(user_id, followers, name)

    def add_many(self, weights: Mapping[int, float]) -> None:
        for user_id, weight in weights.items():
            self.add(user_id, weight)

    def start(self) -> None:
        """Nothing to connect to (the Redis frontier checks its server)."""

    def add_seed(self, user_id: int, rank: int = 0) -> bool:
        """Visit this account before any other (whatever its size; seeds in
        the order added, ``rank`` being that order); False when it was
        visited already."""
        if user_id in self.visited:
            return False
        if user_id not in self._seeds:
            self._seeds.append(user_id)
        return True

    def claim(self, max_total: int) -> AccountClaim | None:
        """The next account to visit (seeds first), or None: nothing
        eligible, or ``max_total`` accounts visited or under way."""
        if len(self.visited) >= max_total:
            return None
        user_id = None
        while self._seeds and user_id is None:
            seed = self._seeds.pop(0)
            if seed not in self.visited:
                user_id, score = seed, self.mark_visited(seed)
        if user_id is None:
            best = self.pop()
            if best is None:
                return None
            user_id, score = best
        self.in_progress.add(user_id)
        self.next_position += 1
        return AccountClaim(user_id, score, self.next_position - 1)

    def visit_done(self, user_id: int) -> None:
        self.in_progress.discard(user_id)

    def followers_of(self, user_id: int) -> int | None:
        return self.followers.get(user_id)

    def name_of(self, user_id: int) -> str | int:
        return self.names.get(user_id, user_id)

    def is_visited(self, user_id: int) -> bool:
        return user_id in self.visited

    def counts(self) -> dict[str, int]:
        """visited (finished), in_progress, queued, passed_over."""
        return {"visited": len(self.visited) - len(self.in_progress), "in_progress": len(self.in_progress),
                "queued": len(self.scores), "passed_over": len(self.passed_over)}

    def waiting(self) -> bool:
        """Whether work held elsewhere may still come back (never, here)."""
        return False

    def top_named(self, n: int = 5) -> list[tuple[str | int, float]]:
        return [(self.name_of(uid), score) for uid, score in self.top(n)]

    # -- the in-memory structures ----------------------------------------------------

    def __len__(self) -> int:
        return len(self.scores)

    def note_user(self, user_id: int, followers: int | None, name: str | None = None) -> None:
        """What an embedded object tells about an account's size (and name)."""
        if followers is not None:
            self.followers[user_id] = followers
        if name and user_id not in self.names:
            self.names[user_id] = name

    def add(self, user_id: int, weight: float) -> None:
        """``user_id`` received an interaction worth ``weight`` from a visited account."""
        if user_id in self.visited or user_id in self.passed_over:
            return
        score = self.scores.get(user_id, 0.0) + weight
        self.scores[user_id] = score
        heapq.heappush(self._heap, (-score, user_id))
        if len(self._heap) > 4 * len(self.scores) + 1024:
            self._compact()

    def mark_visited(self, user_id: int) -> float:
        """Take an account out of the frontier; returns the score it had."""
        self.visited.add(user_id)
        return self.scores.pop(user_id, 0.0)

    def pop(self) -> tuple[int, float] | None:
        """The unvisited, big-enough account with the highest score, or None."""
        while self._heap:
            negative, user_id = heapq.heappop(self._heap)
            if self.scores.get(user_id) != -negative:
                continue  # stale entry, or already visited
            if self.followers.get(user_id, -1) < self.min_followers:
                # Unknown or too small: not visited (its edges are kept).
                self.scores.pop(user_id)
                self.passed_over.add(user_id)
                continue
            return user_id, self.mark_visited(user_id)
        return None

    def top(self, n: int = 5) -> list[tuple[int, float]]:
        """The best ``n`` eligible accounts, for progress lines (not removed)."""
        best = heapq.nsmallest(n * 4 + 16, self._heap)
        seen: set[int] = set()
        out = []
        for negative, user_id in best:
            if user_id in seen or self.scores.get(user_id) != -negative:
                continue
            if self.followers.get(user_id, -1) < self.min_followers:
                continue
            seen.add(user_id)
            out.append((user_id, -negative))
            if len(out) == n:
                break
        return out

    def restore(self, visited: Iterable[int], scores: Iterable[tuple[int, float, int | None, str | None]],
                next_position: int = 0) -> None:
        """Rebuild from stored data: visited accounts and (target, score,
        followers, name) sums over their interactions."""
        self.next_position = max(self.next_position, next_position)
        self.visited.update(visited)
        for user_id, score, followers, name in scores:
            if user_id in self.visited:
                continue
            self.note_user(user_id, followers, name)
            self.scores[user_id] = float(score)
        self._compact()

    def _compact(self) -> None:
        self._heap = [(-score, user_id) for user_id, score in self.scores.items()]
        heapq.heapify(self._heap)
