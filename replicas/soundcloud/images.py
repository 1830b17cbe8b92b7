"""i1.sndcdn.com on the SoundCloud replica: avatars, artworks, visuals and waveforms
in every documented size, valid JPEG/PNG bytes, distinct per image."""

from __future__ import annotations

import hashlib
import re

from aiohttp import web

from replicas.soundcloud.media import IMAGE_SIZES, jpeg_bytes, png_bytes
from replicas.soundcloud.responses import CDN_HEADERS, cf_id, json_text
from replicas.soundcloud.world import (
    _rng,
)

_IMAGE_RE = re.compile(
    r"^/(?:(avatars|artworks)-([A-Za-z0-9_-]+)|visuals-(\d{12})-([A-Za-z0-9_-]+))-("
    + "|".join(IMAGE_SIZES) + r")\.(jpg|png)$")

_DEFAULT_AVATAR_RE = re.compile(r"^/images/default_avatar_(" + "|".join(IMAGE_SIZES) + r")\.png$")

_WAVE_RE = re.compile(r"^/([A-Za-z0-9]{12})_m\.json$")


class ImagesHost:
    """The image CDN of SoundCloudReplica (state set up in its ``__init__``)."""

    def _images_app(self) -> web.Application:
        app = web.Application(middlewares=[self.stats.count_status, self._route_counter])
        app.router.add_get("/{tail:.*}", self._image, name="images_image")
        app.router.add_route("*", "/{tail:.*}", self._cdn_not_found, name="images_not_found")
        return app

    async def _image(self, request: web.Request) -> web.Response:
        path = request.path
        wave = _WAVE_RE.match(path)
        if wave:
            rng = _rng(self.world.config.seed, "wave", wave.group(1))
            samples = [rng.randrange(20, 140) for _ in range(1800)]
            body = json_text({"width": 1800, "height": 140, "samples": samples})
            return web.Response(body=body.encode(), headers={
                "Content-Type": "application/json", "Server": "AmazonS3",
                "Cache-Control": "max-age=31536000"})
        m = _IMAGE_RE.match(path)
        d = _DEFAULT_AVATAR_RE.match(path) if m is None else None
        if m is None and d is None:
            return await self._cdn_not_found(request)
        size = IMAGE_SIZES[m.group(5) if m else d.group(1)]  # type: ignore[union-attr]
        ext = m.group(6) if m else "png"
        data = self._image_bytes(path, size, ext)
        headers = dict(CDN_HEADERS)
        headers["Content-Type"] = "image/png" if ext == "png" else "image/jpeg"
        headers["ETag"] = '"' + hashlib.md5(data).hexdigest() + '"'
        headers["X-Amz-Cf-Id"] = cf_id()
        return web.Response(body=data, headers=headers)

    def _image_bytes(self, path: str, size: int, ext: str) -> bytes:
        with self._lock:
            data = self._img_cache.get(path)
            if data is not None:
                self._img_cache.move_to_end(path)
                return data
        digest = hashlib.sha256(f"{self.world.config.seed}|{path}".encode()).digest()
        top, bottom = (digest[0], digest[1], digest[2]), (digest[3], digest[4], digest[5])
        comment = f"replica {path}".encode()
        data = (png_bytes(size, size, top, comment) if ext == "png"
                else jpeg_bytes(size, size, top, bottom, comment))
        with self._lock:
            self._img_cache[path] = data
            while len(self._img_cache) > 256:
                self._img_cache.popitem(last=False)
        return data
