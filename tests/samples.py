"""Locate the shared folder of real recorded responses and load them.

The samples live beside the repository (``<repo>/../shared/samples``, see its
README.md).  Tests that need one call these helpers, which skip the test
with a clear reason when the folder is absent instead of failing.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "shared" / "samples"
SOUNDCLOUD_MOCKS = SAMPLES_DIR / "soundcloud" / "newpipe-mocks"
SOUNDCLOUD_PAGES = SAMPLES_DIR / "soundcloud" / "html-pages"


def _require(path: Path) -> Path:
    if not SAMPLES_DIR.is_dir():
        pytest.skip(f"shared samples folder not found at {SAMPLES_DIR} (CI keeps it beside the repository)")
    if not path.is_file():
        pytest.skip(f"sample file missing: {path}")
    return path


@cache
def exchange(relpath: str) -> dict[str, Any]:
    """One recorded newpipe-mock exchange: ``{"request": …, "response": …}``.
    ``relpath`` is relative to ``soundcloud/newpipe-mocks/``."""
    return json.loads(_require(SOUNDCLOUD_MOCKS / relpath).read_text(encoding="utf-8"))


def response_body(relpath: str) -> str:
    """The raw response body string of a recorded exchange."""
    return exchange(relpath)["response"]["responseBody"]


def response_json(relpath: str) -> Any:
    """The response body parsed as JSON (a fresh copy each call: safe to mutate)."""
    return json.loads(response_body(relpath))


@cache
def html_page(name: str) -> str:
    """A saved soundcloud.com page from ``soundcloud/html-pages/``."""
    return _require(SOUNDCLOUD_PAGES / name).read_text(encoding="utf-8")
