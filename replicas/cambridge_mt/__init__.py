"""Local replica of Cambridge-MT: the multitrack library page, its file hosts
and the MyBB discussion forum.

    library = load_library()                      # the real 616 songs (tests/fixtures CSV)
    forum = build_forum(library, ForumConfig())   # generated threads, posts, mixes
    with CambridgeReplica(library, forum, Quirks(burst_400=(30, 1.0, 0.3))) as cmt:
        cmt.library_url, cmt.urls["forum"], cmt.settings(), cmt.stats
"""

from replicas.cambridge_mt.server import CambridgeReplica, Quirks, Stats
from replicas.cambridge_mt.world import Forum, ForumConfig, Library, Song, build_forum, load_library

__all__ = ["CambridgeReplica", "Forum", "ForumConfig", "Library", "Quirks", "Song", "Stats", "build_forum",
           "load_library"]
