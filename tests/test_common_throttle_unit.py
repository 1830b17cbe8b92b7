"""Pacing rules on their own: Retry-After in both forms, the budget
notation, and the real-site defaults (telnet off, the budget, the contact
User-Agent)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from scrapy.utils.project import get_project_settings

from soundscraping.middlewares.throttle import Budget, retry_after_seconds
from soundscraping.spiders.base import user_agent_with_contact


def test_retry_after_seconds_and_http_date() -> None:
    assert retry_after_seconds(b"120") == 120.0
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)  # "Sun, 01 Mar 2026 12:01:30 GMT"
    assert retry_after_seconds(later.encode(), now=now.timestamp()) == 90.0
    assert retry_after_seconds(format_datetime(now - timedelta(hours=1), usegmt=True), now=now.timestamp()) == 0.0
    assert retry_after_seconds(None) is None and retry_after_seconds(b"soon") is None


def test_budget_notation() -> None:
    assert Budget.parse("600/600", per="client_id") == Budget(600, 600.0, "client_id")
    assert Budget.parse("600/600").interval == 1.0
    assert Budget.parse("") is None and Budget.parse("0") is None


def test_real_site_defaults() -> None:
    settings = get_project_settings()
    assert settings.getbool("TELNETCONSOLE_ENABLED") is False
    assert settings.get("SOUNDCLOUD_REQUEST_BUDGET") == "600/600"
    assert settings.getdict("REQUEST_BUDGETS")["SOUNDCLOUD_API_URL"]["per"] == "client_id"
    ua = user_agent_with_contact(settings.get("USER_AGENT"), "https://lab.example.org/crawler")
    assert ua.endswith("soundscraping/0.1 (research crawler; +https://lab.example.org/crawler)")
    assert user_agent_with_contact(ua, "https://lab.example.org/crawler") == ua
