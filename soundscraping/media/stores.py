"""Where streamed files are kept, chosen by FILES_STORE's URI scheme through
one protocol (``StreamStore``), the way Scrapy's FilesPipeline picks its
stores (``STORE_SCHEMES``): a folder (no scheme, or ``file://``) or S3
(``s3://bucket/prefix/``)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from scrapy.exceptions import NotConfigured
from scrapy.settings import BaseSettings

from soundscraping.media.errors import s3_not_stored
from soundscraping.media.http import Remote, StreamFailed


@dataclass
class Stored:
    """What the store holds at a path."""

    size: int
    modified: float
    checksum: str | None


class StreamStore(Protocol):
    """A place streamed files are kept.  Made from FILES_STORE and the
    settings; ``partial_dir`` is where part files wait (the same file system
    as the store where there is one, so a finished file is renamed, not
    copied)."""

    def __init__(self, uri: str, settings: BaseSettings) -> None: ...

    @classmethod
    def partial_dir(cls, uri: str) -> Path: ...

    def stat(self, path: str) -> Stored | None: ...

    def put(self, local: Path, path: str, checksum: str, size: int) -> None: ...

    def read(self, path: str) -> bytes | None:
        """The whole file at ``path``, or None when the store has none there
        (for small files: the analysis commands read a stored waveform)."""
        ...


class LocalStreamStore:
    """A folder.  The MD5 of each streamed file is kept beside it
    (``<file>.md5``) so a re-run need not re-read gigabytes to know it."""

    def __init__(self, uri: str | os.PathLike[str], settings: BaseSettings | None = None):
        self.root = self.folder(uri)

    @staticmethod
    def folder(uri: str | os.PathLike[str]) -> Path:
        text = os.fspath(uri)
        return Path(urlsplit(text).path) if text.startswith("file://") else Path(text)

    @classmethod
    def partial_dir(cls, uri: str) -> Path:
        return cls.folder(uri) / ".partial"

    def stat(self, path: str) -> Stored | None:
        target = self.root / path
        try:
            info = target.stat()
        except OSError:
            return None
        sidecar = target.with_name(target.name + ".md5")
        checksum = sidecar.read_text().split()[0] if sidecar.exists() else None
        return Stored(info.st_size, info.st_mtime, checksum)

    def put(self, local: Path, path: str, checksum: str, size: int) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(local, target)  # same file system: a rename, no copy
        except OSError:
            shutil.move(str(local), target)
        target.with_name(target.name + ".md5").write_text(f"{checksum}  {target.name}\n")

    def read(self, path: str) -> bytes | None:
        try:
            return (self.root / path).read_bytes()
        except FileNotFoundError:
            return None


class S3StreamStore:
    """``s3://bucket/prefix/`` through boto3's multipart upload (parts of
    ``part_size`` bytes, ``threads`` at a time: memory ≈ part_size × threads).
    The MD5 of the whole file is stored as object metadata (``md5``): an S3
    multipart ETag is not one.  A bucket that refuses a write, or an endpoint
    that does not answer, raises FileNotStored (media.errors), as a full disk
    does."""

    def __init__(self, uri: str, settings: BaseSettings):
        import boto3
        from boto3.s3.transfer import TransferConfig

        part_size = max(5, settings.getint("MEDIA_STREAM_PART_SIZE_MB", 16)) << 20  # S3's minimum part is 5 MB
        threads = max(1, settings.getint("MEDIA_STREAM_UPLOAD_THREADS", 4))

        if not uri.startswith("s3://") or "/" not in uri[5:]:
            raise NotConfigured(f"bad FILES_STORE {uri!r}: use s3://bucket/prefix/ (trailing slash)")
        self.uri = uri
        self.bucket, self.prefix = uri[5:].split("/", 1)
        self.acl = settings.get("FILES_STORE_S3_ACL") or "private"
        options: dict[str, Any] = {}
        if settings.get("AWS_USE_SSL") is not None:
            options["use_ssl"] = settings.getbool("AWS_USE_SSL")
        if settings.get("AWS_VERIFY") is not None:
            options["verify"] = settings.get("AWS_VERIFY")
        # Credentials come from settings/environment only and are never logged.
        self.client = boto3.client(
            "s3", endpoint_url=settings.get("AWS_ENDPOINT_URL") or None,
            aws_access_key_id=settings.get("AWS_ACCESS_KEY_ID") or None,
            aws_secret_access_key=settings.get("AWS_SECRET_ACCESS_KEY") or None,
            aws_session_token=settings.get("AWS_SESSION_TOKEN") or None,
            region_name=settings.get("AWS_REGION_NAME") or None, **options)
        self.transfer = TransferConfig(multipart_threshold=part_size, multipart_chunksize=part_size,
                                       max_concurrency=threads, use_threads=threads > 1)

    def stat(self, path: str) -> Stored | None:
        from botocore.exceptions import ClientError

        # An answer (no such object; no such bucket, which a HEAD cannot tell
        # apart) is None: the put says why.  No answer at all: the file could
        # not be stored either, so it is not fetched.
        with s3_not_stored(self.uri):
            try:
                head = self.client.head_object(Bucket=self.bucket, Key=self.prefix + path)
            except ClientError:
                return None
        etag = Remote(etag=head.get("ETag")).md5
        checksum = (head.get("Metadata") or {}).get("md5") or etag
        return Stored(head["ContentLength"], head["LastModified"].timestamp(), checksum)

    def put(self, local: Path, path: str, checksum: str, size: int) -> None:
        key = self.prefix + path
        extra = {"Metadata": {"md5": checksum}, "ACL": self.acl}
        if size < self.transfer.multipart_threshold:
            # One PUT, streamed from the file; its ETag is the MD5: verified.
            with local.open("rb") as body, s3_not_stored(self.uri):
                etag = self.client.put_object(Bucket=self.bucket, Key=key, Body=body, **extra).get("ETag")
            if Remote(etag=etag).md5 not in (None, checksum):
                raise StreamFailed(f"S3 object {key}: ETag {etag} does not match MD5 {checksum}")
        else:
            with s3_not_stored(self.uri):
                self.client.upload_file(str(local), self.bucket, key, Config=self.transfer, ExtraArgs=extra)
                head = self.client.head_object(Bucket=self.bucket, Key=key)
            if head["ContentLength"] != size:
                raise StreamFailed(f"S3 object {key} has {head['ContentLength']} bytes, expected {size}")
        local.unlink(missing_ok=True)

    def read(self, path: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.prefix + path)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise

    @classmethod
    def partial_dir(cls, uri: str) -> Path:
        return Path("data/partial")


# FILES_STORE's scheme -> its store ("" is a plain folder path).
STORE_SCHEMES: dict[str, type[StreamStore]] = {
    "": LocalStreamStore,
    "file": LocalStreamStore,
    "s3": S3StreamStore,
}


def store_class(uri: str) -> type[StreamStore]:
    """The store for FILES_STORE ``uri``; NotConfigured names the schemes
    there are when it has another."""
    scheme = urlsplit(uri).scheme.lower()
    if len(scheme) == 1:  # a Windows drive letter, not a scheme
        scheme = ""
    try:
        return STORE_SCHEMES[scheme]
    except KeyError:
        known = ", ".join(f"{s}://" for s in STORE_SCHEMES if s)
        raise NotConfigured(f"FILES_STORE {uri!r}: no store for {scheme}:// (a folder, or one of {known})") from None


def read_stored_file(files_store: str, path: str, settings: BaseSettings) -> bytes | None:
    """The bytes of a file the media pipelines stored at ``path`` (a
    ``media_files.path``) under FILES_STORE ``files_store``, through the store
    its scheme names, or None when it is not there: small files only (it is
    read whole)."""
    return store_class(files_store)(files_store, settings).read(path)
