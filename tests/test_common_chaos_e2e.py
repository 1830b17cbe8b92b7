"""Chaos, with real services: the crawl killed again and again, its
database server restarted under it, the disk for its files full.  Every
fault is caused at a known point of the crawl's own progress (a request the
replica holds), never after a delay; what it produced is printed (``-s``).

Databases: the kill test uses a fresh database on the shared PostgreSQL
(``pg_url``), the restart test a private cluster of its own (the shared
server is never restarted), the disk test an SQLite file beside the full
disk."""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import random
import shutil
import signal
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from replicas.common import Hold
from replicas.soundcloud import Quirks, SoundCloudReplica, World, WorldConfig, build_world
from soundscraping.storage import Database
from tests.conftest import free_port
from tests.crawl import count_rows, finish, query, start_crawl, wait_until
from tests.test_soundcloud_artists_e2e import (
    artist_refs,
    assert_dataset_matches_world,
    comments_of_other_tracks,
    expected_comments,
    expected_media,
    expected_tracks,
    last_line,
    row_counts,
    site_env,
    start_crawl_with_comments_held,
)

# -- SIGKILL at 5 moments --------------------------------------------------------------

KILLS = 5


def nth_api_request(n: int) -> Any:
    """A hold matching the n-th api-v2 request the replica receives from now on."""
    seen = iter(range(1, n + 1))
    return lambda request: next(seen, None) == n


def requests_left(world: World, refs: list[str], database_url: str, job: Path) -> int:
    """The api-v2 requests a crawl of the artists this job has not finished
    makes: resolve (or search), one tracks page and one comments page per
    track that may have comments; one resolve for a missing artist.  Exact on
    a world without short pages or errors (only a retry would add one).
    ``refs`` name ``world.artists`` in order, then the missing ones (``artist_refs``)."""
    finished = {r[0] for r in query(database_url, "SELECT unit FROM crawl_units WHERE job = %s",
                                    (str(job.resolve()),))}
    artists = {ref: artist for ref, artist in zip(refs, world.artists, strict=False)}
    return sum(2 + sum(1 for t in world.tracks_of(artists[ref]["id"]) if t["comment_count"] != 0)
               if ref in artists else 1 for ref in refs if ref not in finished)


def test_crawl_killed_at_five_random_moments_resumes_to_the_ground_truth(tmp_path: Path, pg_url: str) -> None:
    """SIGKILL when the replica receives the N-th api-v2 request of a run (N
    drawn from a logged seed among the requests the run has left, so every
    kill lands inside the crawl, the last request included), five times, each
    run resumed with the same JOBDIR; then the last run goes to the end.
    Replay a run with ``CHAOS_SEED=<seed>``."""
    seed = int(os.environ.get("CHAOS_SEED") or random.SystemRandom().randrange(1 << 32))
    rng = random.Random(seed)
    print(f"\nchaos seed {seed} (CHAOS_SEED={seed} replays these kill points)")
    world = build_world(WorldConfig(artists=6, tracks_per_artist=4, comments_per_track=12))
    job = tmp_path / "job"
    settings = {"DATABASE_URL": pg_url, "JOBDIR": job, "MEDIA_ENABLED": False, "STORAGE_BATCH_SIZE": 10,
                "STORAGE_FLUSH_SECONDS": 0.2, "CONCURRENT_REQUESTS": 2}
    db = Database.from_url(pg_url)  # the schema, for counting what each run finished
    db.connect()
    db.ensure_schema()
    db.close()
    kills = []
    # No short pages: the requests a run has left are known exactly.
    with SoundCloudReplica(world, Quirks(datadome=False, short_pages=False)) as replica:
        args = {"artists": artist_refs(world, replica)}
        refs = args["artists"].split(",")
        for k in range(1, KILLS + 1):
            left = requests_left(world, refs, pg_url, job)
            n = rng.randint(1, left)
            held: Hold = replica.holds.hold(nth_api_request(n))
            process, log, _stats = start_crawl("soundcloud_artists", tmp_path, args=args, env=site_env(replica),
                                                settings=settings, run=f"killed-{k}")
            while not held.arrived(0.05):
                assert process.poll() is None, f"seed {seed}: run {k} ended before api request {n}"
            process.send_signal(signal.SIGKILL)
            process.wait(30)
            held.release()
            kills.append((n, left, process.returncode))
            stored = {**row_counts(pg_url), "crawl_units": count_rows(pg_url, "crawl_units")}
            resumed = [line.split(": ", 1)[1] for line in log.read_text().splitlines() if "Resuming the job" in line]
            print(f"kill {k}/{KILLS}: SIGKILL at api request {n} of the {left} the run had to make, "
                  f"exit {process.returncode}; {resumed[0] if resumed else 'nothing skipped'}; "
                  f"stored by then: {stored}")
        final = finish(*start_crawl("soundcloud_artists", tmp_path, args=args, env=site_env(replica),
                                    settings=settings, run="final"))
    print(f"final run: exit {final.returncode}, {final.stat('response_received_count')} responses, "
          f"{final.stat('soundscraping/units/skipped')} artists skipped as finished")
    context = f"seed {seed}, kills at (request, of) {[(n, left) for n, left, _ in kills]}"
    assert [rc for _, _, rc in kills] == [-signal.SIGKILL] * KILLS, context
    assert final.returncode == 0, f"{context}\n{final.log[-3000:]}"
    assert "did not stop cleanly" in final.log, context

    assert_dataset_matches_world(pg_url, world)
    # Nothing twice: each key once, and no row repeated under another key.
    for table, key in (("soundcloud_users", "id"), ("soundcloud_tracks", "id"), ("soundcloud_comments", "id"),
                       ("crawl_units", "spider, job, unit")):
        repeated = query(pg_url, f"SELECT {key}, count(*) FROM {table} GROUP BY {key} HAVING count(*) > 1")
        assert not repeated, f"{context}: {table} {repeated[:5]}"
    stored_comments = Counter(query(pg_url, "SELECT track_id, user_id, body, timestamp_ms FROM soundcloud_comments"))
    want_comments = Counter((c["track_id"], c["user_id"], c["body"], c["timestamp"])
                            for c in expected_comments(world).values())
    assert stored_comments == want_comments, context
    stored_tracks = Counter(query(pg_url, "SELECT user_id, permalink_url FROM soundcloud_tracks"))
    assert max(stored_tracks.values()) == 1, context
    units = Counter(r[0] for r in query(pg_url, "SELECT unit FROM crawl_units WHERE job = %s", (str(job.resolve()),)))
    assert units == Counter(refs), f"{context}: every artist finished once, the missing one too"
    # A redone artist adds a second popularity snapshot of its tracks (history
    # rows, keyed by scraped_at), with the same figures.
    snapshots = query(pg_url, "SELECT track_id, count(DISTINCT (playback_count, likes_count, reposts_count, "
                              "comment_count)), count(*) FROM soundcloud_track_stats GROUP BY track_id")
    assert {r[0] for r in snapshots} == set(expected_tracks(world)), context
    assert all(r[1] == 1 for r in snapshots), f"{context}: snapshots of one track disagree"
    print(f"track_stats: {sum(r[2] for r in snapshots)} snapshots of {len(snapshots)} tracks "
          f"(re-visits of the artists in flight at a kill)")


# -- PostgreSQL restarted mid-crawl ------------------------------------------------------


class PrivateCluster:
    """A PostgreSQL cluster of this test's own: initdb + pg_ctl in a temp
    dir, a free port, trust auth, run as the ``postgres`` user when the test
    runs as root (initdb refuses root)."""

    def __init__(self, bindir: Path, user: str | None) -> None:
        self.bindir, self.user = bindir, user
        self.dir = Path(tempfile.mkdtemp(prefix="soundscraping-pg-"))
        if user is not None:
            os.chown(self.dir, pwd.getpwnam(user).pw_uid, -1)
        self.data, self.log = self.dir / "data", self.dir / "server.log"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, tool: str, *args: str) -> None:
        subprocess.run([str(self.bindir / tool), *args], check=True, user=self.user, capture_output=True,
                       timeout=120)

    def pg_ctl(self, action: str, *args: str) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", *args, action)

    def start(self) -> None:
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
        self.pg_ctl("start", "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off")

    def restart(self) -> None:
        # The options of the last start are kept in postmaster.opts.
        self.pg_ctl("restart", "-m", "fast")

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            subprocess.run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                           user=self.user, capture_output=True, timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_cluster() -> Iterator[PrivateCluster]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: [int(part) for part in Path(p).parts[-3].split(".") if part.isdigit()])
    if not found:
        pytest.skip("no /usr/lib/postgresql/<version>/bin/initdb (Debian's postgresql package)")
    bindir = Path(found[-1]).parent
    if not (bindir / "pg_ctl").exists():
        pytest.skip(f"no {bindir / 'pg_ctl'}")
    user = None
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres").pw_name
        except KeyError:
            pytest.skip("running as root, and initdb refuses root: no 'postgres' user to run it as")
    cluster = PrivateCluster(bindir, user)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


def test_postgres_restarted_mid_crawl_loses_no_row(tmp_path: Path, private_cluster: PrivateCluster) -> None:
    """The server is restarted (``pg_ctl restart -m fast``) while one comments
    page is held by the replica and every other page's rows are stored, so the
    crawl's connection dies idle between two flushes, as it does when an
    administrator runs ``pg_ctlcluster 15 main restart``.  That command is
    Debian's wrapper around this same ``pg_ctl restart`` of the same server
    binary: the server terminates every backend and comes back on the same
    port, which is all the crawl sees.  A private cluster stands in for the
    system one because the shared server on 5432 serves other test suites
    and must not be restarted.  When the page is released its rows meet a dead
    connection: the store reconnects, retries (counted) and loses nothing."""
    database_url = private_cluster.url
    world = build_world(WorldConfig(artists=3, tracks_per_artist=4, comments_per_track=20))
    others = comments_of_other_tracks(world)
    with SoundCloudReplica(world, Quirks(datadome=False)) as replica:
        held, process, log, stats = start_crawl_with_comments_held(
            world, replica, tmp_path,
            {"DATABASE_URL": database_url, "MEDIA_ENABLED": False, "STORAGE_FLUSH_SECONDS": 0.2})
        wait_until(lambda: count_rows(database_url, "soundcloud_comments") == others,
                   f"the {others} comments of every other track stored while one page is held")
        private_cluster.restart()
        held.release()
        result = finish(process, log, stats)
    retries = [line for line in result.log.splitlines() if "retrying in" in line]
    print(f"\nrestart: exit {result.returncode}, {result.stat('soundscraping/storage/retries')} storage retries; "
          f"{retries}")
    assert result.returncode == 0, result.log[-3000:]
    assert result.stats["finish_reason"] == "finished"
    assert result.stat("soundscraping/storage/retries") >= 1, "the write on the dead connection was retried"
    # The line names what broke the connection, not the rollback after it.
    assert retries and any(f"database write failed: {cause}" in retries[0] for cause in (
        "server closed the connection unexpectedly", "terminating connection due to administrator command"))
    assert_dataset_matches_world(database_url, world)
    stored = sum(result.stat(f"soundscraping/stored/{t}") for t in
                 ("soundcloud_users", "soundcloud_tracks", "soundcloud_comments"))
    assert stored == sum(v for k, v in row_counts(database_url).items() if k != "media_files")
    assert "Traceback" not in result.log


# -- FILES_STORE's disk full ----------------------------------------------------------------


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs: room for a few of the crawl's images, not for all.
    Mounting needs CAP_SYS_ADMIN (the test suite's container runs as root)."""
    mount = tmp_path / "files"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tiny tmpfs for FILES_STORE ({done.stderr.strip()}): needs CAP_SYS_ADMIN")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_files_store_disk_full_fails_clearly_and_records_no_half_file(tmp_path: Path, full_disk: Path) -> None:
    """A real full disk (ENOSPC from a tmpfs with a size limit; no loop
    device or FUSE needed, and no LD_PRELOAD): the first file that does not
    fit is cut short by the kernel mid-write, every later one fails at once.
    The crawl stores every row, says once what is wrong, fails with the count
    of files not stored, and records no file it did not write whole.  (Where
    mounting is not allowed the test skips; the unit test of the store cuts a
    write short with RLIMIT_FSIZE instead: EFBIG, a per-process stand-in.)"""
    world = build_world(WorldConfig(artists=3, tracks_per_artist=4, comments_per_track=8))
    database_url = f"sqlite:///{tmp_path}/full.sqlite3"
    with SoundCloudReplica(world, Quirks(datadome=False)) as replica:
        process, log, stats = start_crawl(
            "soundcloud_artists", tmp_path, args={"artists": artist_refs(world, replica)}, env=site_env(replica),
            settings={"DATABASE_URL": database_url, "FILES_STORE": full_disk})
        result = finish(process, log, stats)
    not_stored = result.stat("soundscraping/media/not_stored")
    errors = [line for line in result.log.splitlines() if " ERROR: " in line]
    print(f"\ndisk full: exit {result.returncode}, finish reason {result.stats.get('finish_reason')}, "
          f"{not_stored} files not stored; errors: {errors}")
    assert result.returncode == 1, result.log[-3000:]
    assert result.stats["finish_reason"] == "files_not_stored"
    assert 0 < not_stored < len(expected_media(world)), "some files fitted, the rest did not"
    assert "Cannot write to FILES_STORE: [Errno 28] No space left on device" in errors[0]
    assert len(errors) == 2 and f"Crawl failed: {not_stored} files not stored in FILES_STORE" in last_line(result.log)
    assert "Traceback" not in result.log

    # Stored means whole: every media_files row is a complete file, every
    # file under its final name has a row, and no part file is left behind.
    rows = {path: checksum for path, checksum in query(database_url, "SELECT path, checksum FROM media_files")}
    on_disk = {str(p.relative_to(full_disk)): p for p in full_disk.rglob("*") if p.is_file()}
    assert set(on_disk) == set(rows), "a file under its final name is a stored file"
    for path, checksum in rows.items():
        assert hashlib.md5(on_disk[path].read_bytes()).hexdigest() == checksum, f"{path} is whole"
    assert len(rows) + not_stored == len(expected_media(world))
    # The rows themselves are all stored.
    assert_dataset_matches_world(database_url, world)
