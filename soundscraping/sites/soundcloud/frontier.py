"""The graph crawl's frontier: accounts not yet visited, best first.

An account's score is the sum of the weights of the interactions it received
from visited accounts, and it changes as the crawl goes on.  A max-heap with
lazy deletion gives the best account in O(log n) without re-sorting: every
score change pushes a fresh entry, and stale entries are skipped when popped
(and purged when they outnumber the live ones)."""

from __future__ import annotations

import heapq
from collections.abc import Iterable

# What one interaction from a visited account adds to the score of the
# account it points at: the default of the GRAPH_WEIGHTS setting (the graph
# crawl's visit order) and of the community map's edge weights.
INTERACTION_WEIGHTS: dict[str, float] = {"like": 1.0, "repost": 3.0, "follow": 3.0, "comment": 3.0}


class Frontier:
    def __init__(self, min_followers: int = 0):
        self.min_followers = min_followers
        self.scores: dict[int, float] = {}
        self.followers: dict[int, int] = {}
        self.names: dict[int, str] = {}
        self.visited: set[int] = set()
        self.passed_over: set[int] = set()  # too small (or size unknown) to visit
        self._heap: list[tuple[float, int]] = []

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

    def restore(self, visited: Iterable[int], scores: Iterable[tuple[int, float, int | None, str | None]]) -> None:
        """Rebuild from stored data: visited accounts and (target, score,
        followers, name) sums over their interactions."""
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
