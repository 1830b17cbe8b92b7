"""a-v2.sndcdn.com on the SoundCloud replica: the JS chunks, one of the last holding
the client_id config module, with Range support as the CDN has it."""

from __future__ import annotations

import hashlib
import re
import secrets

from aiohttp import web

from replicas.soundcloud.media import js_chunk
from replicas.soundcloud.responses import CDN_HEADERS, HEAD_CHUNKS, LATE_CHUNKS, LATE_FIRST, cf_id
from replicas.soundcloud.world import (
    _rng,
)

_CONFIG_CHUNK = 55


class AssetsHost:
    """The asset CDN of SoundCloudReplica (state set up in its ``__init__``)."""

    def _assets_app(self) -> web.Application:
        app = web.Application(middlewares=[self.stats.count_status, self._route_counter])
        app.router.add_get("/assets/{name}", self._asset, name="assets_chunk")
        app.router.add_route("*", "/{tail:.*}", self._cdn_not_found, name="assets_not_found")
        return app

    def _config_module(self, client_id: str) -> str:
        web_base, api = self.urls["web"], self.urls["api"]
        return (
            'function(e,t,r){var n=e.exports=new(r(253)),i={api_v2_host:!0,api_auth_host:!0,'
            'secure_host:!0,env:!0,gql_host:!0};r(1).each({app_id:1e3*String(Date.now()).substr(-8)'
            '+Math.floor(1e3*Math.random()),app_version:null,'
            f'public_api_host:"{api}/",v2_host:"{web_base}",api_v2_host:"{api}/",'
            f'api_auth_host:"{api}/",auth_ui_host:"{web_base}/",secure_host:"{web_base}/",'
            f'client_application_id:46941,client_id:"{client_id}",client_is_expiring:!1,'
            f'env:"production",webi_host:"{web_base}",gql_host:"{api}/graphql",geoip:null,'
            'privacy_settings:null,playHistoryLength:50,maxComments:200,me:null,'
            'oauth_token:null,preferFlashAudio:!0,features:null,router:null},'
            '(function(e,t){i[t]?n.set(t,e):n.set(t,e)}))}')

    def _ensure_chunks(self, client_id: str) -> dict[int, str]:
        """Chunk file names for a client_id generation.  Names are content
        hashes, so a rotation renames the config chunk like a redeploy would;
        old chunks stay downloadable (immutable CDN files)."""
        with self._lock:
            names = self._chunk_names.get(client_id)
            if names is not None:
                return names
            seed = self.world.config.seed
            names = {}
            for n in (*HEAD_CHUNKS, LATE_FIRST, *LATE_CHUNKS):
                if n != _CONFIG_CHUNK and self._chunk_names:
                    names[n] = next(iter(self._chunk_names.values()))[n]  # unchanged
                    continue
                rng = _rng(seed, "chunk", n)
                size = rng.randrange(40_000, 120_000)
                if n == _CONFIG_CHUNK:
                    data = js_chunk(rng, n, max(size, 60_000), self._config_module(client_id),
                                    rng.randrange(2_000, 30_000))
                else:
                    data = js_chunk(rng, n, size)
                name = f"{n}-{hashlib.sha256(data).hexdigest()[:8]}.js"
                self._chunks[name] = data
                names[n] = name
            self._chunk_names[client_id] = names
            return names

    async def _asset(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        data = self._chunks.get(name)
        if data is None:
            return await self._cdn_not_found(request)
        headers = dict(CDN_HEADERS)
        headers["Content-Type"] = "application/javascript"
        headers["ETag"] = '"' + hashlib.md5(data).hexdigest() + '"'
        headers["X-Amz-Cf-Id"] = cf_id()
        return self._ranged(request, data, headers)

    @staticmethod
    def _ranged(request: web.Request, data: bytes, headers: dict[str, str]) -> web.Response:
        """Honour a single ``Range: bytes=a-b`` (also ``a-`` and ``-n``)."""
        rng = request.headers.get("Range", "")
        total = len(data)
        m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
        if not m or (m.group(1) == "" and m.group(2) == ""):
            return web.Response(body=data, headers=headers)
        if m.group(1) == "":
            start, end = max(total - int(m.group(2)), 0), total - 1
        else:
            start = int(m.group(1))
            end = min(int(m.group(2)), total - 1) if m.group(2) else total - 1
        if start >= total or end < start:
            headers["Content-Range"] = f"bytes */{total}"
            return web.Response(status=416, headers=headers)
        headers["Content-Range"] = f"bytes {start}-{end}/{total}"
        return web.Response(body=data[start:end + 1], status=206, headers=headers)

    async def _cdn_not_found(self, request: web.Request) -> web.Response:
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
                f'<Message>Access Denied</Message><RequestId>{secrets.token_hex(8).upper()}</RequestId>'
                f'<HostId>{cf_id()}</HostId></Error>')
        return web.Response(body=body.encode(), status=404, headers={
            "Content-Type": "application/xml", "Server": "AmazonS3",
            "X-Cache": "Error from cloudfront"})
