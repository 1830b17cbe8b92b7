"""The one-at-a-time gate shared by Scrapy's downloads (event loop) and the
streamed files (threads)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from soundscraping.host_gate import GateClosed, HostGate

FORUM = "https://discussion.example.org/showthread.php?tid=1"
OTHER = "https://files.example.org/a.zip"


def test_a_page_waits_for_a_streamed_file_to_the_same_host() -> None:
    gate = HostGate(hosts={"discussion.example.org"})
    streaming, release = threading.Event(), threading.Event()
    order: list[str] = []

    def stream() -> None:
        with gate.held(FORUM.replace("showthread.php?tid=1", "attachment.php?aid=7")):
            streaming.set()
            release.wait(5)
            order.append("file done")

    async def page(url: str, label: str) -> None:
        async with gate.turn(url):
            order.append(label)

    async def main() -> None:
        worker = threading.Thread(target=stream)
        worker.start()
        await asyncio.to_thread(streaming.wait, 5)
        waiting = asyncio.ensure_future(page(FORUM, "page"))
        await page(OTHER, "other host")  # not gated: goes at once
        await asyncio.sleep(0.05)
        assert not waiting.done(), "the page waits while the file holds the host"
        release.set()
        await waiting
        worker.join(5)

    asyncio.run(main())
    assert order == ["other host", "file done", "page"]


def test_a_waiting_thread_gives_up_when_the_crawl_stops() -> None:
    gate = HostGate(hosts={"discussion.example.org"})

    async def hold_and_try() -> None:
        async with gate.turn(FORUM):
            with pytest.raises(GateClosed, match="the crawl is stopping"):
                await asyncio.to_thread(lambda: gate.held(FORUM, stop=lambda: True).__enter__())

    asyncio.run(hold_and_try())


def test_no_host_named_gates_nothing() -> None:
    gate = HostGate(hosts=set())
    with gate.held(FORUM), gate.held(FORUM):  # not re-entrant when gated; ungated it is a no-op
        pass
