"""crawl_closing against a real Scrapy crawl: False while it runs, True once
the spider is being closed (close_spider_async) and once the engine stops
(Ctrl-C's path).  It reads a mark Scrapy keeps privately; this is the test
that fails if an upgrade moves it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent('''
    import asyncio, json, sys
    import scrapy
    from scrapy.crawler import CrawlerProcess
    from soundscraping.crawl_state import crawl_closing

    how = sys.argv[1]
    seen = {}

    class Probe(scrapy.Spider):
        name = "probe"
        start_urls = ["data:,x"]

        async def parse(self, response):
            seen["running"] = crawl_closing(self.crawler)
            if how == "close_spider":
                asyncio.ensure_future(self.crawler.engine.close_spider_async(reason="probe"))
            else:
                asyncio.ensure_future(self.crawler.stop())
            for _ in range(100):
                await asyncio.sleep(0.02)
                if crawl_closing(self.crawler):
                    break
            seen["closing"] = crawl_closing(self.crawler)
            yield {}

    process = CrawlerProcess({"TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
                              "LOG_LEVEL": "ERROR", "TELNETCONSOLE_ENABLED": False})
    process.crawl(Probe)
    process.start()
    print(json.dumps(seen))
''')


@pytest.mark.parametrize("how", ["close_spider", "stop"])
def test_crawl_closing_follows_a_real_crawl(how: str) -> None:
    result = subprocess.run([sys.executable, "-c", SCRIPT, how], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {"running": False, "closing": True}
