"""DataDome on the SoundCloud replica: signed nonces and ``datadome`` cookies, the
verdict on a request to a guarded route, the 403 with its captcha URL (reference §7)."""

from __future__ import annotations

import base64
import hmac
import os
import secrets
import time
from urllib.parse import quote, urlsplit

from aiohttp import web

from replicas.soundcloud.responses import json_text, parse_id


class DataDome:
    """The DataDome side of SoundCloudReplica (state set up in its ``__init__``)."""

    @property
    def cookie_domain(self) -> str:
        """``Domain`` of the datadome cookie: the site's domain (.soundcloud.com
        for the real site; the replica's hosts share one IP address)."""
        host = urlsplit(self.urls["api"]).hostname or ""
        return ".soundcloud.com" if host.endswith("soundcloud.com") else host

    def datadome_set_cookie(self, value: str) -> str:
        """The Set-Cookie DataDome sends (reference §1/§7), verbatim in shape."""
        return f"datadome={value}; Max-Age=31536000; Domain={self.cookie_domain}; Path=/; Secure; SameSite=Lax"

    def _sign(self, text: str) -> str:
        return self._signer.sign(text)

    def make_nonce(self) -> str:
        return self._signer.make_nonce("nonce")

    def _nonce_ok(self, nonce: str, max_age: int = 900) -> bool:
        return self._signer.nonce_ok(nonce, "nonce", max_age)

    def sign_datadome_cookie(self, ttl: int | None = None) -> str:
        """A valid ``datadome`` cookie value (what the JS challenge hands out)."""
        ttl = self.quirks.datadome_cookie_ttl if ttl is None else ttl
        payload = f"{int((time.time() + ttl) * 1000)}.{secrets.token_hex(6)}"  # expiry in ms
        b64 = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
        return f"{b64}~{self._sign('dd|' + payload)[:40]}"

    def verify_datadome_cookie(self, value: str) -> bool:
        try:
            b64, sig = value.split("~", 1)
            payload = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)).decode()
            exp = int(payload.split(".", 1)[0])
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(sig, self._sign("dd|" + payload)[:40]) and exp / 1000 > time.time()

    def _datadome_values(self, request: web.Request) -> list[str]:
        """Every datadome value in the raw Cookie header(s), in order."""
        values = []
        for header in request.headers.getall("Cookie", []):
            for part in header.split(";"):
                name, _, value = part.strip().partition("=")
                if name == "datadome":
                    values.append(value.strip().strip('"'))
        return values

    def _datadome_verdict(self, request: web.Request, route: str) -> str | None:
        """None = through; else why the request is blocked (counted)."""
        q = self.quirks
        values = set(self._datadome_values(request))
        if len(values) > 1:
            return "two_cookies"  # a client holds exactly one datadome [I]
        uid = parse_id(request.match_info.get("id", ""), "users")
        if route == "api_user_tracks" and uid in q.tracks_refused_users:
            return "refused_user"
        if route == "api_user_stream" and uid in q.stream_refused_users:
            return "refused_user"
        cookie_ok = bool(values) and self.verify_datadome_cookie(next(iter(values)))
        if self.tls is not None:
            client = self.tls.client_class(request)
            self.stats.incr(f"datadome_tls_{client}")
            if client != "chrome":
                return "tls_fingerprint"
            if q.impersonation_refused and not cookie_ok:
                return "bad_cookie" if values else "no_cookie"
            return None
        return None if cookie_ok else ("bad_cookie" if values else "no_cookie")

    def _datadome_block(self, request: web.Request, extra: dict[str, str]) -> web.Response:
        self.stats.incr("datadome_blocked")
        junk = base64.urlsafe_b64encode(os.urandom(96)).decode().rstrip("=").replace("-", "~")
        cid = base64.urlsafe_b64encode(os.urandom(48)).decode().rstrip("=")
        url = (f"{self.urls['web']}/captcha/?initialCid={secrets.token_hex(32)}&cid={quote(cid, safe='')}"
               f"&hash={secrets.token_hex(15).upper()}&t=fe&s=47891"
               f"&referer={quote(str(request.url), safe='')}")
        h = dict(extra)
        h["Set-Cookie"] = self.datadome_set_cookie(junk)
        h["X-Datadome-Cid"] = cid
        return self._json_response(json_text({"url": url}), 403, h)
