"""Save the replica pages the unit tests read where no real recording exists
(tests/fixtures/README.md, "Saved from the replicas").

    .venv/bin/python scripts/save_replica_fixtures.py

The replicas are built from the reference (/work/shared/reference), so these
pages have the documented shapes; the real hosts stand in the URLs (the
Cambridge-MT pages are rendered unbound, the Beatport pages' replica address
is replaced by www.beatport.com).  Deterministic: the same files each run.
"""

from __future__ import annotations

import sys
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from replicas.beatport import BeatportReplica, Quirks, build_catalogue  # noqa: E402
from replicas.cambridge_mt import ForumConfig, build_forum, load_library  # noqa: E402
from replicas.cambridge_mt.library import render_library  # noqa: E402
from replicas.cambridge_mt.mybb import render_forum, render_thread  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures"
UA = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
                    "Safari/537.36"}
# A few songs of every shape the library page has: multi-part ZIPs, an external
# download, registration only, no multitrack at all, a "NEW! " title.
LIBRARY_SONGS = 8
BEATPORT_TRACK = 20613902  # "Sakura", the track the Beatport replica test reads too
FORUM_SEED = 2
# The forum's clock (relative dates are relative to it): the tests send it as the Date header.
FORUM_NOW = 1764547200  # 2025-12-01T00:00:00Z


def save(relpath: str, text: str) -> None:
    path = FIXTURES / relpath
    path.write_text(text, encoding="utf-8")
    print(f"{path.relative_to(REPO)}: {len(text.encode()):,} bytes")


def cambridge() -> None:
    library = load_library()
    picked = list(library.songs[:LIBRARY_SONGS])
    for wanted in (lambda s: len(s.full_urls) > 1, lambda s: s.external, lambda s: s.registration,
                   lambda s: not s.full_urls and not s.excerpt_urls, lambda s: s.is_new):
        picked += [next(s for s in library.songs if wanted(s))]
    small = library.subset([s for i, s in enumerate(picked) if all(s is not t for t in picked[:i])])
    save("cambridge_mt/replica_library_page.html", render_library(small))
    forum = build_forum(library, ForumConfig(seed=FORUM_SEED, now=FORUM_NOW))
    # The song forum with the most threads (several list pages), and the longest thread with
    # attachments on its first page (several pages of posts).
    song_forum = max(forum.song_forums.values(), key=lambda sf: len(sf.threads))
    save(f"cambridge_mt/replica_forumdisplay_fid{song_forum.fid}.html",
         render_forum(forum, song_forum.fid, 1, forum.now, None))
    thread = max((t for t in forum.threads.values() if any(p.attachments for p in t.posts[:10])),
                 key=lambda t: len(t.posts))
    save(f"cambridge_mt/replica_showthread_tid{thread.tid}.html", render_thread(forum, library, thread.tid, 1,
                                                                                   forum.now))


def beatport() -> None:
    catalogue = build_catalogue()
    track = catalogue.tracks[BEATPORT_TRACK]
    with BeatportReplica(catalogue, Quirks()) as replica:
        def get(path: str) -> str:
            body = urllib.request.urlopen(urllib.request.Request(replica.url + path, headers=UA)).read()
            return body.decode("utf-8").replace(replica.url, "https://www.beatport.com") \
                .replace(replica.urls["media"], "https://geo-media.beatport.com")
        query = f"{track.artists[0].name} {track.name}".replace(" ", "+")
        save("beatport/replica_search_tracks.html", get(f"/search/tracks?q={query}&page=1&per-page=25"))
        save(f"beatport/replica_track_{BEATPORT_TRACK}.html", get(f"/track/x/{BEATPORT_TRACK}"))


if __name__ == "__main__":
    cambridge()
    beatport()
