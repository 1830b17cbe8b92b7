"""``media_files.role``: what a stored file is to its owner (``preview``,
``waveform``, ``artwork``, ...), named by the item class that asked for it."""

from __future__ import annotations

from typing import Any


def file_role(item: Any, url: str | None) -> str | None:
    """``media_files.role`` of a file stored for ``item``: the role its item
    class gives (``FILE_ROLES``: field -> role) to the field holding ``url``
    (a URL field or a list of URLs); None when no field claims it."""
    roles: dict[str, str] = getattr(type(item), "FILE_ROLES", {})
    for name, role in roles.items():
        value = getattr(item, name, None)
        if value == url or (isinstance(value, list | tuple) and url in value):
            return role
    return None
