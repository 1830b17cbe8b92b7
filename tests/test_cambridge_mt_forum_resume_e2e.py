"""End to end: a cambridge_forum job killed with SIGKILL at a known point (a
thread's second page held by the replica once its first page's rows are
stored) and resumed with the same JOBDIR, into SQLite: finished song forums
and threads are skipped, only those in flight are read again, and the rows
are those of an uninterrupted crawl.  Then a re-crawl within
``recrawl_after`` reads nothing but the forums that list forums."""

from __future__ import annotations

import signal
from pathlib import Path

from replicas.cambridge_mt import CambridgeReplica, ForumConfig, build_forum, load_library
from replicas.cambridge_mt.world import GENRE_FORUMS
from tests.crawl import count_rows, finish, query, run_crawl, start_crawl, wait_until
from tests.test_cambridge_mt_e2e import FAST

TABLES = {
    "cmt_forum_threads": "SELECT tid, forum_fid, title, author, started_at, views, replies FROM cmt_forum_threads",
    "cmt_forum_posts": "SELECT pid, tid, author, posted_at, body_text FROM cmt_forum_posts",
    "cmt_mixes": "SELECT url, pid, tid, kind, host, filename FROM cmt_mixes",
}


def rows(database_url: str) -> dict[str, set[tuple]]:
    return {table: set(query(database_url, sql)) for table, sql in TABLES.items()}


def test_killed_forum_crawl_resumes_where_it_stopped(tmp_path: Path) -> None:
    library = load_library()
    genre = "Hip-Hop / R&B"
    forum = build_forum(library, ForumConfig(seed=5, genres=(genre,)))
    fid = GENRE_FORUMS[genre][0]
    threads = {t.tid: t for g in forum.root if g.fid == fid for sf in g.forums for t in sf.threads}
    held_tid = max((t for t in threads.values() if len(t.posts) > 10), key=lambda t: len(t.posts)).tid
    args = {"forums": str(fid)}
    reference_url, resumed_url = (f"sqlite:///{tmp_path / name}.sqlite3" for name in ("reference", "resumed"))
    with CambridgeReplica(library, forum) as replica:
        common = {**FAST, "STORAGE_FLUSH_SECONDS": 0.2, **replica.settings()}
        reference = run_crawl("cambridge_forum", tmp_path, args=args, run="reference",
                              settings={**common, "DATABASE_URL": reference_url})
        assert reference.returncode == 0, reference.log[-3000:]
        uninterrupted = replica.stats["requests_forum"]

        held = replica.holds.hold(lambda r: r.path == "/showthread.php" and r.query.get("tid") == str(held_tid)
                                  and r.query.get("page") == "2")
        settings = {**common, "DATABASE_URL": resumed_url, "JOBDIR": tmp_path / "job"}
        start = replica.stats["requests_forum"]
        process, _log, _stats = start_crawl("cambridge_forum", tmp_path, args=args, settings=settings, run="killed")
        held.wait_arrived()
        # One request at a time: while page 2 is held nothing else moves, and
        # the held thread's first page is stored (with every unit finished before it).
        wait_until(lambda: count_rows(resumed_url, f"cmt_forum_threads WHERE tid = {held_tid}") == 1,
                   "the held thread's first page stored")
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        held.release()
        held.wait_answered()  # the replica counts the held page only now: before the snapshot below
        killed = replica.stats["requests_forum"] - start
        finished = {r[0] for r in query(resumed_url, "SELECT unit FROM crawl_units")}
        assert str(held_tid) not in finished, "the thread in flight is not finished"
        finished_threads = {int(u) for u in finished if not u.startswith("forum:")}
        assert finished_threads and finished_threads < set(threads)

        before = dict(replica.stats)
        resumed = finish(*start_crawl("cambridge_forum", tmp_path, args=args, settings=settings, run="resumed"))
        assert resumed.returncode == 0, resumed.log[-3000:]
        assert "did not stop cleanly" in resumed.log
        again = replica.stats["requests_forum"] - before["requests_forum"]
        # Only the threads not finished are read again, each page once.
        pages = {tid: (len(t.posts) + 9) // 10 for tid, t in threads.items()}
        assert replica.stats["showthread"] - before["showthread"] == sum(
            n for tid, n in pages.items() if tid not in finished_threads)
        # The genre forum's page (it lists forums) and the pages of the song forums not finished.
        song_forums = [sf for g in forum.root if g.fid == fid for sf in g.forums]
        assert replica.stats["forumdisplay"] - before["forumdisplay"] == 1 + sum(
            max(1, (len(sf.threads) + 19) // 20) for sf in song_forums if f"forum:{sf.fid}" not in finished)
        assert f"forum:{song_forums[0].fid}" in finished or f"forum:{song_forums[-1].fid}" in finished
        assert rows(resumed_url) == rows(reference_url), "the rows of an uninterrupted crawl"
        assert killed + again < uninterrupted + len(threads), "what was finished is not read again"

        # A re-crawl: everything was finished less than an hour ago; only the
        # genre forum (it lists forums) is read.
        before = dict(replica.stats)
        recrawl = run_crawl("cambridge_forum", tmp_path, args={**args, "recrawl_after": "1h"}, run="recrawl",
                            settings={**common, "DATABASE_URL": resumed_url})
        assert recrawl.returncode == 0, recrawl.log[-3000:]
        assert replica.stats["showthread"] == before["showthread"]
        assert replica.stats["forumdisplay"] - before["forumdisplay"] == 1
