"""The graph frontier: highest received score first, adapting as scores
change, skipping small accounts, rebuilt from stored data."""

from soundscraping.sites.soundcloud.frontier import Frontier


def test_highest_score_first() -> None:
    f = Frontier()
    for user, followers in ((1, 10), (2, 10), (3, 10)):
        f.note_user(user, followers)
    f.add(1, 1)
    f.add(2, 3)
    f.add(3, 2)
    assert [f.pop(), f.pop(), f.pop(), f.pop()] == [(2, 3.0), (3, 2.0), (1, 1.0), None]


def test_order_adapts_to_later_scores() -> None:
    f = Frontier()
    for user in (1, 2):
        f.note_user(user, 10)
    f.add(1, 3)  # discovered first, ahead at first
    f.add(2, 1)
    f.add(2, 1)
    f.add(2, 3)  # overtakes later
    assert f.pop() == (2, 5.0)
    assert f.pop() == (1, 3.0)


def test_accounts_below_min_followers_are_not_visited() -> None:
    f = Frontier(min_followers=250)
    f.note_user(1, 249)
    f.note_user(2, 250)
    f.add(1, 100)
    f.add(2, 1)
    f.add(3, 50)  # size unknown: not visited either
    assert f.pop() == (2, 1.0)
    assert f.pop() is None
    assert f.passed_over == {1, 3}
    f.add(1, 5)
    assert 1 not in f.scores, "a passed-over account does not come back"


def test_visited_accounts_collect_no_score() -> None:
    f = Frontier()
    f.note_user(1, 10)
    f.mark_visited(1)
    f.add(1, 3)
    assert f.pop() is None


def test_stale_heap_entries_are_compacted() -> None:
    f = Frontier()
    f.note_user(1, 10)
    for _ in range(10_000):
        f.add(1, 1)
    assert len(f._heap) <= 4 * len(f.scores) + 1024
    assert f.pop() == (1, 10_000.0)


def test_top_does_not_consume() -> None:
    f = Frontier()
    for user in range(10):
        f.note_user(user, 10, f"u{user}")
        f.add(user, user)
    assert [u for u, _ in f.top(3)] == [9, 8, 7]
    assert len(f) == 10


def test_restore_from_stored_sums() -> None:
    f = Frontier(min_followers=5)
    f.restore(visited=[1], scores=[(1, 99.0, 10, "a"), (2, 4.0, 10, "b"), (3, 7.0, 1, "c")])
    assert 1 not in f.scores
    assert f.pop() == (2, 4.0), "3 has the better score but too few followers"
    assert f.names[2] == "b"
