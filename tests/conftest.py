"""Real services for the tests: a fresh PostgreSQL database per test, a real
S3 HTTP endpoint (moto's server mode), and the site replicas."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import psycopg2
import pytest

from tests.crawl import PG_ADMIN, admin

LAYERS = ("unit", "replica", "e2e")
# Test files that write into the work tree itself (scrapyd-deploy's build/ and egg-info).
SHARED_WORKTREE = {"test_project_scrapyd_e2e.py": "worktree", "test_project_schedule_e2e.py": "worktree"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test with its layer, read from its file name
    (``test_<site>[_<topic>]_<layer>.py``): the name is the one place it is said,
    except for a test that names a heavier layer itself (a replica self-test
    that needs Chromium is ``@pytest.mark.e2e``)."""
    for item in items:
        layer = item.path.stem.rsplit("_", 1)[-1]
        if layer not in LAYERS:
            raise pytest.UsageError(f"{item.path.name}: a test file is named test_<site>[_<topic>]_<layer>.py, "
                                    f"layer one of {', '.join(LAYERS)}")
        own = [m.name for m in item.iter_markers() if m.name in LAYERS]
        if own and LAYERS.index(own[0]) < LAYERS.index(layer):
            raise pytest.UsageError(f"{item.nodeid}: marked {own[0]} in a {layer} file "
                                    "(a test may only name a heavier layer)")
        if not own:
            item.add_marker(layer)
        # pytest-xdist (--dist loadgroup): a file's tests stay on one worker (its
        # module fixtures are built once), and the files that build the project's
        # egg in the work tree (scrapyd-deploy) share a worker, never racing.
        item.add_marker(pytest.mark.xdist_group(SHARED_WORKTREE.get(item.path.name, item.path.name)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_admin() -> str:
    try:
        psycopg2.connect(PG_ADMIN, connect_timeout=5).close()
    except psycopg2.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN} ({exc}); `make services` starts it")
    return PG_ADMIN


@pytest.fixture
def pg_url(pg_admin: str) -> Iterator[str]:
    """A brand-new, empty database, dropped afterwards."""
    name = f"soundscraping_test_{uuid.uuid4().hex[:10]}"
    admin(f"CREATE DATABASE {name}")
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@dataclass
class S3:
    endpoint: str
    bucket: str
    client: Any

    @property
    def env(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION_NAME": "us-east-1",
                "AWS_DEFAULT_REGION": "us-east-1"}

    def keys(self, prefix: str = "") -> set[str]:
        keys: set[str] = set()
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys.update(obj["Key"] for obj in page.get("Contents", []))
        return keys


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint: str) -> S3:
    bucket = f"media-{uuid.uuid4().hex[:8]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, aws_access_key_id="testing",
                          aws_secret_access_key="testing", region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    return S3(s3_endpoint, bucket, client)


@pytest.fixture
def redis_job() -> Iterator[Any]:
    """A distributed job of its own on the shared Redis (tests/distributed.py)."""
    from tests.distributed import redis_job as job

    yield from job()
