"""SoundCloud image URLs: one image at several sizes (``-large.jpg``,
``-t500x500.jpg``, ...).  Rows keep the URL as SoundCloud gives it; the media
pipeline fetches the 500x500 variant (``image_variant``), and ``media_files``
ties the two together (``owner_url``)."""

from __future__ import annotations

import re

_IMAGE_SIZE = re.compile(r"-(large|t500x500|original|t300x300|crop|small|badge|tiny|mini)\.(jpg|jpeg|png)$")


def image_variant(url: str | None, size: str = "t500x500") -> str | None:
    """The same SoundCloud image at another size (``-large.jpg`` → ``-t500x500.jpg``).
    The default avatar has no sizes and is returned unchanged."""
    if not url or "default_avatar" in url:
        return url
    return _IMAGE_SIZE.sub(lambda m: f"-{size}.{m.group(2)}", url)
