"""The streaming path's pieces on their own, without a server: the local store
and its checksums, media paths, what an ETag says about a file's MD5."""

from __future__ import annotations

import hashlib
from pathlib import Path

from soundscraping.media.http import Remote
from soundscraping.media.paths import media_path
from soundscraping.media.stores import LocalStreamStore


def test_local_store_keeps_the_checksum_beside_the_file(tmp_path: Path) -> None:
    store = LocalStreamStore(tmp_path / "files")
    part = tmp_path / "p.part"
    part.write_bytes(b"abc")
    store.put(part, "cmt_songs/x.zip", hashlib.md5(b"abc").hexdigest(), 3)
    stored = store.stat("cmt_songs/x.zip")
    assert stored is not None and (stored.size, stored.checksum) == (3, hashlib.md5(b"abc").hexdigest())
    assert not part.exists() and store.stat("cmt_songs/none.zip") is None


def test_paths_and_etags() -> None:
    assert media_path("https://d.example/attachment.php?aid=7", "cmt_mixes", "mix.mp3").endswith(".mp3")
    assert media_path("https://d.example/attachment.php?aid=7", "cmt_mixes", "mix.mp3") != \
        media_path("https://d.example/attachment.php?aid=8", "cmt_mixes", "mix.mp3")
    assert media_path("https://z.example/a.zip?download=1", "cmt_songs").endswith(".zip")
    assert Remote(etag='"0123456789abcdef0123456789abcdef"').md5 == "0123456789abcdef0123456789abcdef"
    assert Remote(etag='"0123456789abcdef0123456789abcdef-12"').md5 is None
    assert Remote(etag='W/"0123456789abcdef0123456789abcdef"').md5 is None
