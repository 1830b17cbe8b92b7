"""What a stored file is to its owner row: ``media_files.role`` (``preview``,
``waveform``, ``artwork``, ...) and ``media_files.owner_url`` (the URL as the
row stores it), named by the item class that asked for the file."""

from __future__ import annotations

from typing import Any


def file_source(item: Any, url: str | None) -> tuple[str | None, str | None]:
    """``(role, owner_url)`` of a file fetched from ``url`` for ``item``: the
    role its item class gives (``FILE_ROLES``: field -> role) to the field
    whose value (a URL or a list of URLs) is ``url``, or fetches as ``url``
    (``FETCHED_URL``: SoundCloud images are fetched at another size), and that
    value; ``(None, None)`` when no field claims it."""
    cls = type(item)
    roles: dict[str, str] = getattr(cls, "FILE_ROLES", {})
    fetched = getattr(cls, "FETCHED_URL", None)
    for name, role in roles.items():
        value = getattr(item, name, None)
        for candidate in value if isinstance(value, list | tuple) else (value,):
            if candidate and (candidate == url or (fetched is not None and fetched(candidate) == url)):
                return role, candidate
    return None, None

