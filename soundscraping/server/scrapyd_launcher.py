"""``soundscraping scrapyd``: Scrapyd, refused unless it is locked down.

``addversion.json`` installs code that Scrapyd then runs: an open Scrapyd is
remote code execution for anyone who reaches its port.  Scrapyd itself
happily listens on 0.0.0.0 without a password, so this launcher reads the
configuration exactly as Scrapyd will (its own ``scrapyd.config.Config``: the
same files, from the same working directory, then the ``SCRAPYD_BIND_ADDRESS``
/ ``SCRAPYD_HTTP_PORT`` / ``SCRAPYD_USERNAME`` / ``SCRAPYD_PASSWORD``
environment variables that Scrapyd 1.6 lets override them) and refuses to
start a Scrapyd that would listen beyond the loopback interface without basic
auth.  The credentials stay in the environment: never written to a file.
Then it becomes Scrapyd (``exec``: same process, so a service manager
supervises Scrapyd itself).
"""

from __future__ import annotations

import ipaddress
import os
import sys
from dataclasses import dataclass

from scrapyd.config import Config

from soundscraping.server.scrapyd_api import PASSWORD_ENV, USERNAME_ENV


class UnsafeScrapydConfig(ValueError):
    """The configuration would expose Scrapyd (one line)."""


@dataclass(frozen=True)
class Listening:
    bind_address: str
    http_port: int
    username: str
    password: str

    @property
    def authenticated(self) -> bool:
        return bool(self.username and self.password)

    @property
    def url(self) -> str:
        host = f"[{self.bind_address}]" if ":" in self.bind_address else self.bind_address
        return f"http://{host}:{self.http_port}/"


def effective(config: Config | None = None, environ: dict[str, str] | None = None) -> Listening:
    """Where and how Scrapyd will listen, with Scrapyd 1.6's own precedence (environment over files)."""
    config = config if config is not None else Config()
    env = os.environ if environ is None else environ
    port = env.get("SCRAPYD_HTTP_PORT") or config.get("http_port", "6800")
    try:
        http_port = int(port)
    except ValueError:
        raise UnsafeScrapydConfig(f"http_port {port!r} is not a number") from None
    return Listening(bind_address=env.get("SCRAPYD_BIND_ADDRESS") or config.get("bind_address", "127.0.0.1"),
                     http_port=http_port, username=env.get(USERNAME_ENV) or config.get("username", ""),
                     password=env.get(PASSWORD_ENV) or config.get("password", ""))


def is_loopback(address: str) -> bool:
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False  # a host name: whatever it resolves to, treat it as reachable from elsewhere


def check(listening: Listening) -> None:
    """UnsafeScrapydConfig unless Scrapyd is local-only or authenticated."""
    if ":" in listening.username:
        raise UnsafeScrapydConfig(f"{USERNAME_ENV} must not contain ':' (basic auth separates it from the password)")
    if bool(listening.username) != bool(listening.password):
        missing = PASSWORD_ENV if listening.username else USERNAME_ENV
        raise UnsafeScrapydConfig(f"{missing} is not set: basic auth needs both {USERNAME_ENV} and {PASSWORD_ENV} "
                                  "(Scrapyd would silently run without it)")
    if not is_loopback(listening.bind_address) and not listening.authenticated:
        raise UnsafeScrapydConfig(
            f"Scrapyd would listen on {listening.bind_address} without authentication (anyone who reaches "
            f"port {listening.http_port} could upload code): set {USERNAME_ENV} and {PASSWORD_ENV}, "
            "or bind_address = 127.0.0.1")


def describe(listening: Listening) -> str:
    auth = "basic auth" if listening.authenticated else "no authentication (loopback only)"
    return f"Scrapyd on {listening.url} with {auth}"


def run(args: list[str], *, check_only: bool = False) -> int:
    """Check the configuration, then exec Scrapyd with ``args`` (twistd options)."""
    try:
        listening = effective()
        check(listening)
    except UnsafeScrapydConfig as exc:
        print(f"soundscraping scrapyd: error: {exc}", file=sys.stderr)
        return 2
    if check_only:
        print(describe(listening))
        return 0
    print(f"soundscraping scrapyd: starting {describe(listening)}", file=sys.stderr, flush=True)
    os.execv(sys.executable, [sys.executable, "-m", "scrapyd", *args])  # noqa: S606 (our own interpreter)
    return 0  # not reached
