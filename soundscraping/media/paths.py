"""Where a kept file lands in FILES_STORE, and what an item records of it."""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from itemadapter import ItemAdapter


def media_path(url: str, owner_table: str | None, filename: str | None = None) -> str:
    """Where a file lands in the store: ``<owner table>/<sha1 of url><ext>``.
    Deterministic, so a re-crawl (or another worker) finds it already stored;
    two different URLs never share a path (two mixes both called "mix.mp3"
    by one author stay two files).  The extension comes from ``filename``
    when the URL has none (``attachment.php?aid=…``)."""
    guid = hashlib.sha1(url.encode("utf-8")).hexdigest()  # noqa: S324 - a name, not a secret
    ext = PurePosixPath(urlsplit(url).path).suffix.lower()
    if ext not in mimetypes.types_map and filename:
        ext = PurePosixPath(filename).suffix.lower()
    if ext not in mimetypes.types_map:
        ext = ""
    return f"{owner_table or 'misc'}/{guid}{ext}"


def urlparse_path(url: str) -> str:
    return unquote(urlsplit(url).path)


def note_stored_path(item: Any) -> None:
    """Items with a ``stored_path`` column (mixes) get the path of their
    stored file."""
    adapter = ItemAdapter(item)
    if "stored_path" not in adapter.field_names() or adapter.get("stored_path"):
        return
    files = adapter.get("files") or []
    if files:
        adapter["stored_path"] = files[0].get("path")
