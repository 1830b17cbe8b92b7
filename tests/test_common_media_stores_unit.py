"""FILES_STORE picks its store by URI scheme (media.stores.STORE_SCHEMES),
and a scheme with no store fails at start with a line naming the ones there are."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.settings import Settings

from soundscraping.media.stores import LocalStreamStore, S3StreamStore, store_class


@pytest.mark.parametrize(("uri", "expected"), [
    ("data/files", LocalStreamStore),
    ("/srv/soundscraping/files", LocalStreamStore),
    ("file:///srv/soundscraping/files", LocalStreamStore),
    ("s3://bucket/prefix/", S3StreamStore),
    ("S3://bucket/prefix/", S3StreamStore),
])
def test_store_chosen_by_scheme(uri: str, expected: type) -> None:
    assert store_class(uri) is expected


def test_unknown_scheme_is_a_clear_error() -> None:
    with pytest.raises(NotConfigured, match=r"no store for gs://.*s3://"):
        store_class("gs://bucket/prefix/")


def test_local_store_puts_in_the_folder_of_a_file_uri(tmp_path: Path) -> None:
    store = LocalStreamStore(f"file://{tmp_path}/files", Settings())
    part = tmp_path / "x.part"
    part.write_bytes(b"abc")
    store.put(part, "cmt_songs/a.zip", "900150983cd24fb0d6963f7d28e17f72", 3)
    assert (tmp_path / "files/cmt_songs/a.zip").read_bytes() == b"abc"
    stored = store.stat("cmt_songs/a.zip")
    assert stored is not None and stored.size == 3 and stored.checksum == "900150983cd24fb0d6963f7d28e17f72"
    assert LocalStreamStore.partial_dir(f"file://{tmp_path}/files") == tmp_path / "files/.partial"


def test_s3_parts_wait_locally() -> None:
    assert S3StreamStore.partial_dir("s3://bucket/prefix/") == Path("data/partial")
