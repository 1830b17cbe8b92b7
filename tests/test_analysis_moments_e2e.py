"""Moments: a crawl of the SoundCloud replica, whose tracks have comments
planted around known moments, gives those moments back within 2 s; the
pictures are drawn over the stored waveform and fetch nothing."""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

from replicas.soundcloud import Quirks, SoundCloudReplica, WorldConfig, build_world
from soundscraping.analysis.moments import comment_density, find_moments
from tests.crawl import REPO, query, run_crawl
from tests.test_soundcloud_artists_e2e import site_env


def test_density_is_normalised_by_duration() -> None:
    rng = random.Random(5)
    for duration in (120_000, 600_000):
        stamps = [rng.randrange(duration) for _ in range(400)]
        density = comment_density(stamps, duration)
        assert abs(float(density.values.mean()) - 1.0) < 0.05  # 1.0 = the track's average rate


def test_uniform_comments_make_no_moment_and_a_cluster_makes_one() -> None:
    rng = random.Random(9)
    uniform = sorted((rng.randrange(300_000), 0.0) for _ in range(120))
    assert find_moments(uniform, 300_000) == []
    cluster = sorted([*uniform, *((int(rng.gauss(100_000, 1000)), 0.8) for _ in range(20))])
    (moment,) = find_moments(cluster, 300_000)
    assert abs(moment.peak_ms - 100_000) <= 2000
    assert moment.start_ms < 100_000 < moment.end_ms
    assert moment.mean_sentiment is not None and moment.mean_sentiment > 0.5


def test_a_few_comments_close_together_on_a_busy_track_are_not_a_moment() -> None:
    rng = random.Random(2)
    busy = sorted([*((rng.randrange(300_000), None) for _ in range(600)), (50_000, None), (50_300, None)])
    assert all(abs(m.peak_ms - 50_000) > 2000 for m in find_moments(busy, 300_000))


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def opened_offline_in_chromium(page: Path) -> None:
    """The page renders its plot in headless Chromium without one request
    beyond the file itself (skipped where Chromium is not installed)."""
    if not CHROMIUM.exists():
        return
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page()
            tab.on("request", lambda request: requests.append(request.url))
            tab.goto(page.as_uri())
            tab.wait_for_selector("#moments .main-svg", timeout=30_000)
            names = tab.evaluate("Array.from(document.getElementById('moments').data, t => t.name)")
        finally:
            browser.close()
    assert {"waveform", "comment density", "moments", "comments"} <= set(names)
    assert [u for u in requests if not u.startswith(("file:", "data:", "blob:"))] == []


def soundscraping(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "soundscraping", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300)


def test_crawled_replica_tracks_give_back_their_planted_moments_and_draw_them(tmp_path: Path) -> None:
    world = build_world(WorldConfig(artists=1, tracks_per_artist=6, comments_per_track=160, moments_every=2,
                                    geo_blocked_every=None))
    url = f"sqlite:///{tmp_path}/moments.sqlite3"
    files = tmp_path / "files"
    artist = world.artists[0]
    with SoundCloudReplica(world, Quirks(datadome=False)) as replica:
        crawl = run_crawl("soundcloud_artists", tmp_path, args={"artists": artist["permalink"]},
                          settings={"DATABASE_URL": url, "FILES_STORE": files}, env=site_env(replica))
    assert crawl.returncode == 0, crawl.log[-3000:]

    scored = soundscraping("sentiment", "--database-url", url)
    assert scored.returncode == 0, scored.stderr
    stored = soundscraping("moments", "--all", "--database-url", url)
    assert stored.returncode == 0, stored.stderr

    planted = {tid: world.planted_moments(tid) for tid in world.track_ids_of(artist["id"])}
    assert sum(bool(p) for p in planted.values()) >= 2, "the world must plant moments on some tracks"
    for track_id, centres in planted.items():
        moments = query(url, "SELECT peak_ms, start_ms, end_ms, comment_count, mean_sentiment "
                             "FROM soundcloud_track_moments WHERE track_id = %s ORDER BY peak_ms", (track_id,))
        if not centres:
            assert moments == [], f"track {track_id} has no planted moment"
            continue
        assert len(moments) == len(centres), (track_id, centres, moments)
        for centre, (peak, start, end, count, mean) in zip(centres, moments, strict=True):
            assert abs(peak - centre) <= 2000, (track_id, centre, peak)
            assert start <= centre <= end
            assert count >= 10
            assert mean is not None and mean > 0.3  # planted comments are reactions: 🔥, "Tune", "slaps"
        timed = query(url, "SELECT COUNT(*) FROM soundcloud_comments WHERE track_id = %s "
                           "AND timestamp_ms IS NOT NULL", (track_id,))[0][0]
        assert sum(m[3] for m in moments) <= timed  # comments without a timestamp are never counted

    track_id = next(t for t, c in planted.items() if c)
    out = tmp_path / "pictures"
    drawn = soundscraping("moments", "--track-id", str(track_id), "--out", str(out), "--database-url", url,
                          "--files-store", str(files))
    assert drawn.returncode == 0, drawn.stderr
    assert "waveform drawn" in drawn.stdout
    png, page = out / f"moments-{track_id}.png", out / f"moments-{track_id}.html"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = page.read_text(encoding="utf-8")
    assert '"name":"waveform"' in html and '"name":"comment density"' in html
    # Self-contained: nothing is loaded from the network (scripts, styles, images).
    assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)\s*=\s*["']?(https?:)?//""", html, re.I)
    assert not re.search(r"""@import\s+(url\()?["']?(https?:)?//""", html, re.I)

    opened_offline_in_chromium(page)

    missing = soundscraping("moments", "--track-id", "999", "--database-url", url)
    assert missing.returncode == 2 and "no track 999" in missing.stderr
