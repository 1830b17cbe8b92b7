"""FILES_STORE picks its store by URI scheme (media.stores.STORE_SCHEMES),
and a scheme with no store fails at start with a line naming the ones there are.
Small files are written whole or not at all (media.files.AtomicFSFilesStore).
A write S3 refuses is a file not stored, as a full disk's (media.errors)."""

from __future__ import annotations

import resource
from io import BytesIO
from pathlib import Path

import pytest
from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import ClientError, EndpointConnectionError
from scrapy.exceptions import NotConfigured
from scrapy.settings import Settings
from twisted.internet import defer
from twisted.python.failure import Failure

from soundscraping import outcome
from soundscraping.media.errors import FileNotStored, s3_not_stored
from soundscraping.media.files import AtomicFSFilesStore, MediaFilesPipeline, NotStoredS3FilesStore
from soundscraping.media.stores import LocalStreamStore, S3StreamStore, read_stored_file, store_class
from tests.conftest import S3, free_port


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


def test_small_file_store_writes_whole_files_under_their_names(tmp_path: Path) -> None:
    store = AtomicFSFilesStore(str(tmp_path / "files"))
    store.persist_file("soundcloud_tracks/a.jpg", BytesIO(b"jpeg bytes"), info=None)
    assert (tmp_path / "files/soundcloud_tracks/a.jpg").read_bytes() == b"jpeg bytes"
    assert [p.name for p in (tmp_path / "files/soundcloud_tracks").iterdir()] == ["a.jpg"], "no part file left"
    assert MediaFilesPipeline.STORE_SCHEMES[""] is AtomicFSFilesStore
    assert MediaFilesPipeline.STORE_SCHEMES["file"] is AtomicFSFilesStore


def test_a_write_cut_short_leaves_no_file_under_its_name(tmp_path: Path) -> None:
    """The write fails after its first 4 KiB (this process may write no file
    larger than that: EFBIG, as a full disk gives ENOSPC)."""
    store = AtomicFSFilesStore(str(tmp_path / "files"))
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, hard))
    try:
        with pytest.raises(FileNotStored, match=r"File too large .*files"):
            store.persist_file("soundcloud_tracks/big.jpg", BytesIO(b"x" * 100_000), info=None)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert list((tmp_path / "files/soundcloud_tracks").iterdir()) == []
    assert store.stat_file("soundcloud_tracks/big.jpg", info=None) == {}, "the next crawl fetches it again"


def test_files_not_stored_fail_the_crawl() -> None:
    stats = {outcome.MEDIA_NOT_STORED: 3, outcome.MEDIA_NOT_STORED_ERROR: "[Errno 28] No space left on device (/x)"}
    assert outcome.final_reason("finished", stats) == "files_not_stored"
    assert outcome.exit_code(outcome.final_reason("finished", stats)) == 1
    assert outcome.final_reason("finished", {**stats, outcome.UNSAVED_ROWS: 1}) == "rows_not_saved"
    assert outcome.final_reason("finished", {}) == "finished"
    message = outcome.lost_files_message(stats)
    assert message is not None and message.startswith("Crawl failed: 3 files not stored in FILES_STORE ([Errno 28]")
    assert outcome.lost_files_message({}) is None


# -- S3 refusing a write ---------------------------------------------------------------

def access_denied() -> ClientError:
    return ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "PutObject")


def multipart_refused() -> S3UploadFailedError:
    """What boto3's upload_file raises for a refused part: the answer, wrapped
    (raised while handling it, as boto3 does)."""
    try:
        try:
            raise ClientError({"Error": {"Code": "NoSuchBucket", "Message": "The specified bucket does not exist"}},
                              "CreateMultipartUpload")
        except ClientError as exc:
            raise S3UploadFailedError(f"Failed to upload /tmp/x.part to gone/media/a.zip: {exc}")  # noqa: B904
    except S3UploadFailedError as wrapped:
        return wrapped


@pytest.mark.parametrize(("error", "reason"), [
    (access_denied, "An error occurred (AccessDenied) when calling the PutObject operation: Access Denied"),
    (multipart_refused, "An error occurred (NoSuchBucket) when calling the CreateMultipartUpload operation: "
                        "The specified bucket does not exist"),
    (lambda: EndpointConnectionError(endpoint_url="http://127.0.0.1:9/b/k"),
     'Could not connect to the endpoint URL: "http://127.0.0.1:9/b/k"'),
])
def test_an_s3_refusal_is_a_file_not_stored_saying_why_and_where(error: object, reason: str) -> None:
    with pytest.raises(FileNotStored) as raised:
        with s3_not_stored("s3://bucket/media/"):
            raise error()  # type: ignore[operator]
    assert str(raised.value) == f"{reason} (s3://bucket/media/)"
    assert not isinstance(raised.value, OSError), "the streamer's network retries must not catch it"


def test_other_errors_are_left_as_they_are() -> None:
    with pytest.raises(ValueError, match="not S3's"), s3_not_stored("s3://bucket/media/"):
        raise ValueError("not S3's")


def s3_settings(endpoint: str, **more: object) -> Settings:
    return Settings({"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
                     "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION_NAME": "us-east-1", **more})


@pytest.mark.parametrize("size", [1000, (5 << 20) + 1], ids=["one PUT", "multipart"])
def test_a_streamed_file_put_into_a_missing_bucket_is_not_stored(tmp_path: Path, s3: S3, size: int) -> None:
    uri = f"s3://{s3.bucket}-gone/media/"
    store = S3StreamStore(uri, s3_settings(s3.endpoint, MEDIA_STREAM_PART_SIZE_MB=5))
    part = tmp_path / "a.part"
    part.write_bytes(b"x" * size)
    assert store.stat("cmt_songs/a.zip") is None, "no object there: it is fetched"
    with pytest.raises(FileNotStored, match=rf"^An error occurred \(NoSuchBucket\) .*: The specified bucket does "
                                            rf"not exist \({uri}\)$"):
        store.put(part, "cmt_songs/a.zip", "md5", size)
    assert part.stat().st_size == size, "the part file is kept for the next run"


def test_an_s3_endpoint_that_does_not_answer_stores_no_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # botocore's own retries: not this test's subject
    store = S3StreamStore("s3://bucket/media/", s3_settings(f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(FileNotStored, match=r"Could not connect to the endpoint URL"):
        store.stat("cmt_songs/a.zip")  # before the fetch: a file that cannot be stored is not downloaded
    part = tmp_path / "a.part"
    part.write_bytes(b"abc")
    with pytest.raises(FileNotStored, match=r"Could not connect to the endpoint URL.*\(s3://bucket/media/\)"):
        store.put(part, "cmt_songs/a.zip", "900150983cd24fb0d6963f7d28e17f72", 3)


def test_small_files_in_s3_fail_as_not_stored_when_refused() -> None:
    assert MediaFilesPipeline.STORE_SCHEMES["s3"] is NotStoredS3FilesStore
    store = NotStoredS3FilesStore("s3://bucket/media/")
    failures: list[Failure] = []
    defer.fail(access_denied()).addErrback(store._not_stored).addErrback(failures.append)
    (failure,) = failures
    assert failure.check(FileNotStored)
    assert str(failure.value) == ("An error occurred (AccessDenied) when calling the PutObject operation: "
                                  "Access Denied (s3://bucket/media/)")
    others: list[Failure] = []
    defer.fail(ValueError("x")).addErrback(store._not_stored).addErrback(others.append)
    assert others[0].check(ValueError), "anything else fails as itself"
