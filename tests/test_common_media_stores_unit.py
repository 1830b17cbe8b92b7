"""FILES_STORE picks its store by URI scheme (media.stores.STORE_SCHEMES),
and a scheme with no store fails at start with a line naming the ones there are."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.settings import Settings

from soundscraping.media.stores import LocalStreamStore, S3StreamStore, read_stored_file, store_class
from tests.conftest import S3


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


def test_a_stored_file_reads_back_from_a_folder(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "wave.json").write_bytes(b'{"samples": [1, 2]}')
    assert read_stored_file(str(tmp_path), "full/wave.json", Settings()) == b'{"samples": [1, 2]}'
    assert read_stored_file(f"file://{tmp_path}", "full/wave.json", Settings()) == b'{"samples": [1, 2]}'
    assert read_stored_file(str(tmp_path), "full/missing.json", Settings()) is None


def test_a_stored_file_reads_back_from_s3(s3: S3) -> None:
    s3.client.put_object(Bucket=s3.bucket, Key="media/full/wave.json", Body=b'{"samples": [3]}')
    settings = Settings({"AWS_ENDPOINT_URL": s3.endpoint, "AWS_ACCESS_KEY_ID": "testing",
                         "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION_NAME": "us-east-1"})
    store = f"s3://{s3.bucket}/media/"
    assert read_stored_file(store, "full/wave.json", settings) == b'{"samples": [3]}'
    assert read_stored_file(store, "full/missing.json", settings) is None
