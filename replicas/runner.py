"""Run aiohttp applications on ephemeral 127.0.0.1 ports in a background thread.

The crawler under test (Scrapy/Twisted, or a separate process) must be able to
talk to the replica while the test's own thread keeps running, so each
``AppThread`` owns a private asyncio event loop in a daemon thread.  Listening
sockets are bound *before* the loop starts, so the base URLs are known as soon
as ``start()`` returns and no request can race the start-up.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any, Self

from aiohttp import web

__all__ = ["AppThread", "StartStop"]


class StartStop:
    """``with server:`` runs ``start()`` and, however the block ends, ``stop()``."""

    def start(self) -> object:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


class AppThread(StartStop):
    """Serve several ``web.Application``s from one background event loop.

    ``apps`` is either a mapping name -> app (``start()`` then returns a dict
    name -> base URL) or a sequence of apps (``start()`` returns a list).
    ``ports`` optionally fixes the ports (same shape as ``apps``; 0 = ephemeral).
    """

    def __init__(
        self,
        apps: Mapping[str, web.Application] | Sequence[web.Application],
        host: str = "127.0.0.1",
        ports: Mapping[str, int] | Sequence[int] | None = None,
        shutdown_timeout: float = 2.0,
        tls: Mapping[str | int, Any] | None = None,
    ) -> None:
        if isinstance(apps, Mapping):
            self._names: list[str] | None = list(apps)
            self._apps = list(apps.values())
            port_list = [int((ports or {}).get(n, 0)) for n in self._names]  # type: ignore[union-attr]
        else:
            self._names = None
            self._apps = list(apps)
            port_list = list(ports or [0] * len(self._apps))  # type: ignore[arg-type]
        if len(port_list) != len(self._apps):
            raise ValueError("ports must match apps")
        self._ports = port_list
        self.host = host
        self.shutdown_timeout = shutdown_timeout
        # name (or index) -> replicas.tls.TLSGate: that app is served over
        # HTTPS by the gate's accept loop (it peeks at each ClientHello).
        self._tls = dict(tls or {})
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runners: list[web.AppRunner] = []
        self._accept_tasks: list[asyncio.Future[None]] = []
        self._gates: list[Any] = []
        self._urls: list[str] = []

    # -- public API --------------------------------------------------------
    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The background loop (e.g. for ``run_coroutine_threadsafe``)."""
        return self._loop

    @property
    def urls(self) -> dict[str, str] | list[str]:
        if self._names is not None:
            return dict(zip(self._names, self._urls, strict=True))
        return list(self._urls)

    def start(self) -> dict[str, str] | list[str]:
        """Bind, start serving, and return the base URLs (``http://127.0.0.1:PORT``)."""
        if self._thread is not None:
            raise RuntimeError("already started")
        socks = []
        try:
            for port in self._ports:
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((self.host, port))
                sock.listen(1024)
                sock.setblocking(False)
                socks.append(sock)
        except OSError:
            for s in socks:
                s.close()
            raise
        keys = self._names if self._names is not None else list(range(len(self._apps)))
        gates = [self._tls.get(k) for k in keys]
        self._urls = [f"{'https' if gate is not None else 'http'}://{self.host}:{s.getsockname()[1]}"
                      for s, gate in zip(socks, gates, strict=True)]

        ready = threading.Event()
        errors: list[BaseException] = []
        loop = asyncio.new_event_loop()
        self._loop = loop

        async def _serve() -> None:
            for app, sock, gate in zip(self._apps, socks, gates, strict=True):
                runner = web.AppRunner(app, access_log=None, handle_signals=False,
                                       shutdown_timeout=self.shutdown_timeout)
                await runner.setup()
                if gate is None:
                    await web.SockSite(runner, sock).start()
                else:
                    self._accept_tasks.append(asyncio.ensure_future(gate.serve(sock, runner.server)))
                    self._gates.append((gate, sock))
                self._runners.append(runner)

        def _run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(_serve())
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller of start()
                errors.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._cleanup())
            loop.close()

        self._thread = threading.Thread(target=_run, name="replica-server", daemon=True)
        self._thread.start()
        ready.wait()
        if errors:
            self._thread.join()
            self._thread = None
            raise errors[0]
        return self.urls

    def start_named(self) -> dict[str, str]:
        """``start()`` for apps given as a mapping: name -> base URL."""
        urls = self.start()
        assert isinstance(urls, dict), "start_named() needs apps given as a mapping"
        return urls

    def stop(self) -> None:
        """Stop serving and join the thread (idempotent)."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=self.shutdown_timeout + 5)
        self._thread = None
        self._loop = None

    # -- internals ---------------------------------------------------------
    async def _cleanup(self) -> None:
        for task in self._accept_tasks:
            task.cancel()
        for gate, sock in self._gates:
            await gate.close()
            sock.close()
        self._accept_tasks.clear()
        self._gates.clear()
        for runner in reversed(self._runners):
            try:
                await runner.cleanup()
            except Exception:  # noqa: BLE001 - best effort: the thread is going away anyway
                pass
        self._runners.clear()

