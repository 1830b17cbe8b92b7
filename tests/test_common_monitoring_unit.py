"""Monitoring pieces on their own: the JSON Schemas generated from the item
classes (checked with spidermon's validator on real parsed items), field
coverage with the site's own NULLs, the outcome of a failed monitor, the
periodic no-new-item monitor on the watchdog's clock, the alert switches and
the Spider.log() shim."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

import pytest
import scrapy
from itemadapter import ItemAdapter
from scrapy.exceptions import ScrapyDeprecationWarning
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler
from spidermon import MonitorSuite
from spidermon.contrib.scrapy.runners import SpiderMonitorResult
from spidermon.contrib.validation import JSONSchemaValidator

from soundscraping import items, outcome, settings
from soundscraping.monitoring import monitors  # not its classes: they are TestCases pytest would collect
from soundscraping.monitoring.compat import LoggerMonitorResult, LoggerMonitorRunner
from soundscraping.monitoring.coverage import CoverageCounter, coverage_stat, field_coverage
from soundscraping.monitoring.schemas import item_classes, item_schema
from soundscraping.monitoring.validation import SampledItemValidationPipeline
from soundscraping.preflight import UserError, check_alerts
from soundscraping.sites import sent_as_null
from soundscraping.sites.soundcloud.parsers import DjSetRule, hydration_data, parse_comment_json, parse_track_json
from soundscraping.watchdog import Watchdog
from tests.fixtures import html_page, response_json
from tests.utils import project_settings_dict

TRACK_PAGE_2024 = "soundcloud.com.zedsdead-zeds-dead-twin-shadow-lost-you-feat-dangelo-lacy.html"
COMMENTS = "soundcloudcommentsextractor/trackwithcomments/generated_mock_4.json"
RULE = DjSetRule(30, 12, ("mix",))


def validate(item: Any) -> dict[str, list[str]]:
    ok, errors = JSONSchemaValidator(item_schema(type(item))).validate(ItemAdapter(item).asdict())
    assert ok == (not errors)
    return errors


# --- schemas ----------------------------------------------------------------------------------

def test_every_item_class_has_a_generated_schema() -> None:
    classes = {cls.__name__ for cls in item_classes()}
    assert {"SoundCloudTrack", "SoundCloudComment", "BeatportTrack", "CmtForumPost", "InteractionPage"} <= classes
    assert set(settings.SPIDERMON_VALIDATION_SCHEMAS) == set(item_classes())


def test_schema_follows_the_dataclass_and_the_column_kinds() -> None:
    schema = item_schema(items.SoundCloudTrack)
    assert schema["required"] == ["id"]
    assert schema["properties"]["id"] == {"type": "integer"}
    assert schema["properties"]["playback_count"] == {"type": ["integer", "null"]}
    assert schema["properties"]["created_at"] == {"type": ["string", "null"], "format": "date-time"}
    assert schema["properties"]["tag_list"] == {"type": ["string", "null"]}
    assert item_schema(items.BeatportTrack)["properties"]["publish_date"]["format"] == "date"


def test_real_parsed_items_are_valid() -> None:
    track = parse_track_json(hydration_data(html_page(TRACK_PAGE_2024), "sound"), RULE)
    comment = parse_comment_json(response_json(COMMENTS)["collection"][0])
    assert validate(track) == {} and validate(comment) == {}


def test_a_changed_value_is_invalid_and_named() -> None:
    comment = parse_comment_json(response_json(COMMENTS)["collection"][0])
    comment.created_at = "01/09/2024 17:45"
    comment.timestamp_ms = "92600"  # type: ignore[assignment]
    assert set(validate(comment)) == {"created_at", "timestamp_ms"}


def test_batch_items_validate_their_rows() -> None:
    page = items.InteractionPage(source_user_id=1, kind="like",
                                 interactions=[items.SoundCloudInteraction(1, "like", 2, 3)],
                                 users=[items.SoundCloudUser(id=2, followers_count=7)])
    assert validate(page) == {}
    page.users[0].followers_count = "7"  # type: ignore[assignment]
    assert list(validate(page)) == ["users.0.followers_count"]


# --- the site's own NULLs and field coverage ---------------------------------------------------

def test_sent_as_null_tells_a_null_from_a_missing_key() -> None:
    columns = {"playback_count": "playback_count", "timestamp": "timestamp_ms"}
    assert sent_as_null({"playback_count": None, "timestamp": 5}, columns) == ["playback_count"]
    assert sent_as_null({"play_count": 12}, columns) == []  # renamed: not the site's NULL


def test_parsers_record_hidden_stats_and_unpinned_comments() -> None:
    hidden = {"id": 1, "likes_count": None, "reposts_count": None, "playback_count": None, "comment_count": None}
    assert parse_track_json(hidden, RULE).site_nulls == ["likes_count", "reposts_count", "playback_count",
                                                         "comment_count"]
    assert parse_track_json({"id": 1, "play_count": 5}, RULE).site_nulls == []
    assert parse_comment_json({"id": 2, "timestamp": None}).site_nulls == ["timestamp_ms"]


def coverage_stats(scraped: int, filled: int, site_nulls: int) -> dict[str, int]:
    """What CoverageCounter counts for that many scraped tracks: first the
    hidden-stats ones, then the filled ones (0 plays: a value), then NULLs."""
    crawler = get_crawler()
    counter = CoverageCounter(crawler, {"soundcloud_tracks.playback_count": 0.95})
    for i in range(scraped):
        hidden, has_value = i < site_nulls, site_nulls <= i < site_nulls + filled
        track = items.SoundCloudTrack(id=i + 1, playback_count=0 if has_value else None,
                                      site_nulls=["playback_count"] if hidden else [])
        counter.item_scraped(track)
    counter.item_scraped(items.SoundCloudComment(id=1))  # a table without a rule: not counted
    stats = crawler.stats.get_stats()
    assert stats[coverage_stat("soundcloud_tracks")] == scraped and coverage_stat("soundcloud_comments") not in stats
    return stats


def test_coverage_leaves_out_the_sites_nulls() -> None:
    rules = {"soundcloud_tracks.playback_count": 0.95, "cmt_forum_posts.author": 0.95}
    [result] = field_coverage(rules, coverage_stats(scraped=10, filled=8, site_nulls=2))  # no forum rows: no rule
    assert result.passed and result.share == 1.0 and result.judged == 8
    [result] = field_coverage(rules, coverage_stats(scraped=10, filled=0, site_nulls=2))
    assert not result.passed
    assert result.describe().startswith("soundcloud_tracks.playback_count: 0% filled (0 of 8 rows; 2 more NULL")


def test_a_rule_naming_no_table_is_refused() -> None:
    with pytest.raises(ValueError, match=r"soundcloud_trax\.playback_count"):
        field_coverage({"soundcloud_trax.playback_count": 1}, {})


# --- outcome ----------------------------------------------------------------------------------

def test_a_failed_monitor_fails_a_finished_crawl() -> None:
    stats = {outcome.MONITORS_FAILED: 1}
    assert outcome.final_reason("finished", stats) == "monitor_failed"
    assert outcome.exit_code(outcome.final_reason("finished", stats)) == 1
    assert outcome.final_reason("database_unavailable", stats) == "database_unavailable"
    assert outcome.final_reason("finished", {outcome.MONITORS_FAILED: 0}) == "finished"


# --- the periodic monitor on the watchdog's clock ----------------------------------------------

@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Spider:
    name: str = "soundcloud_artists"
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("test-spider"))


class Crawler:
    """What the monitor reads of a crawler: settings and the watchdog extension."""

    def __init__(self, watchdog: Watchdog, settings: dict[str, Any]):
        self.settings = Settings(settings)
        self._watchdog = watchdog

    def get_extension(self, cls: type) -> Any:
        return self._watchdog if cls is Watchdog else None


def run_periodic(seconds_quiet: float, limit: float) -> Any:
    clock = Clock()
    watchdog = Watchdog(get_crawler(), 0, clock=clock)
    watchdog.item_scraped()
    clock.now += seconds_quiet
    suite = MonitorSuite(monitors=[monitors.NoNewItemsMonitor])
    runner = LoggerMonitorRunner(spider=Spider())
    return runner.run(suite, stats={}, crawler=Crawler(watchdog, {"MONITOR_NO_ITEM_SECONDS": limit}),
                      spider=Spider())


def test_no_new_item_for_the_set_time_fails(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        [failed] = run_periodic(seconds_quiet=31, limit=30).monitors_failed_results
    assert "no new item for 31 s (MONITOR_NO_ITEM_SECONDS=30)" in failed.error
    # One line for the failure, its message without the assertion's traceback.
    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert line == ("[Spidermon] FAIL: New items/an item within MONITOR_NO_ITEM_SECONDS: "
                    "no new item for 31 s (MONITOR_NO_ITEM_SECONDS=30)")
    assert "Traceback" not in caplog.text


def test_a_recent_item_passes_and_zero_switches_it_off() -> None:
    assert run_periodic(seconds_quiet=29, limit=30).all_monitors_passed
    result = run_periodic(seconds_quiet=10_000, limit=0)
    assert not result.monitors_failed_results and result.monitor_results[0].status == "SKIPPED"


def run_item_count(stats: dict[str, Any], **settings: Any) -> Any:
    suite = MonitorSuite(monitors=[monitors.ItemCountMonitor])
    runner = LoggerMonitorRunner(spider=Spider())
    crawler = Crawler(Watchdog(get_crawler(), 0), {"MONITOR_MIN_ITEMS": {"*": 1}, **settings})
    return runner.run(suite, stats=stats, crawler=crawler, spider=Spider())


def test_too_few_items_fail_unless_every_unit_was_done_before() -> None:
    assert run_item_count({"item_scraped_count": 0}).monitors_failed_results
    # A re-crawl or resumed job with nothing due: skipped, not failed.
    nothing_due = run_item_count({"item_scraped_count": 0, "soundscraping/units/skipped": 24})
    assert not nothing_due.monitors_failed_results and nothing_due.monitor_results[0].status == "SKIPPED"
    # Units were worked on and yielded nothing (a changed site): still a failure.
    assert run_item_count({"item_scraped_count": 0, "soundscraping/units/skipped": 3,
                           "soundscraping/units/finished": 2}).monitors_failed_results
    assert run_item_count({"item_scraped_count": 5}).all_monitors_passed


def test_a_distributed_worker_with_nothing_due_passes_one_that_worked_for_nothing_fails() -> None:
    redis = {"REDIS_URL": "redis://127.0.0.1:6379/7"}
    idle = run_item_count({}, **redis)  # the other workers had taken every unit
    assert not idle.monitors_failed_results and idle.monitor_results[0].status == "SKIPPED"
    assert run_item_count({"soundscraping/units/finished": 3}, **redis).monitors_failed_results
    # Its units (forum lists) listed only threads done before: nothing was due.
    listed_done = run_item_count({"soundscraping/units/finished": 3, "soundscraping/units/skipped": 40}, **redis)
    assert not listed_done.monitors_failed_results
    # Its units (forum lists) offered their threads, which the other workers read.
    listed = run_item_count({"soundscraping/units/finished": 2, "soundscraping/distributed/units_offered": 9},
                            **redis)
    assert not listed.monitors_failed_results
    assert run_item_count({}).monitors_failed_results  # alone, a crawl of nothing still fails


# --- alerts: off by default, switched on by settings ------------------------------------------

def test_alerts_are_off_by_default_and_on_by_setting() -> None:
    assert monitors.alert_actions(Settings({})) == []
    names = [a.__name__ for a in monitors.alert_actions(Settings({"MONITOR_SLACK_ENABLED": True,
                                                         "MONITOR_EMAIL_ENABLED": True}))]
    assert names == ["SendSlackMessageSpiderFinished", "SendSmtpEmail"]


def test_alert_secrets_come_from_the_environment_only() -> None:
    assert settings.SPIDERMON_SLACK_SENDER_TOKEN is None and settings.SPIDERMON_SMTP_PASSWORD is None


# --- the Spider.log() shim ----------------------------------------------------------------------

def test_upstream_runner_still_uses_the_deprecated_spider_log() -> None:
    """When this fails spidermon logs as Scrapy asks: drop monitoring/compat.py."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        SpiderMonitorResult(scrapy.Spider("s")).log_info("hello")
    assert any(issubclass(w.category, ScrapyDeprecationWarning) for w in caught)


def test_shim_logs_through_the_spider_logger(caplog: pytest.LogCaptureFixture) -> None:
    spider = scrapy.Spider("s")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with caplog.at_level(logging.INFO):
            LoggerMonitorResult(spider).log_info("hello")
            LoggerMonitorResult(spider).log_error("a monitor failed")
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.INFO, "[Spidermon] hello"), (logging.WARNING, "[Spidermon] a monitor failed")]


def test_an_alert_switched_on_without_its_secrets_is_a_user_error() -> None:
    with pytest.raises(UserError, match="MONITOR_SLACK_ENABLED is on but SPIDERMON_SLACK_SENDER_TOKEN"):
        check_alerts(Settings({"MONITOR_SLACK_ENABLED": True, "SPIDERMON_SLACK_RECIPIENTS": ["#crawls"]}))
    check_alerts(Settings({"MONITOR_SLACK_ENABLED": True, "SPIDERMON_SLACK_SENDER_TOKEN": "xoxb-test",
                           "SPIDERMON_SLACK_RECIPIENTS": ["#crawls"]}))


# --- item validation: spidermon's pipeline on a sample, judged by the monitor ---------------------

def run_validation(every: int, comments: list[items.SoundCloudComment]) -> tuple[Any, Any]:
    crawler = get_crawler(settings_dict={**project_settings_dict(), "MONITOR_VALIDATION_EVERY": every})
    pipeline = SampledItemValidationPipeline.from_crawler(crawler)
    for comment in comments:
        assert pipeline.process_item(comment) is comment  # counted, never dropped
    stats = crawler.stats.get_stats()
    result = LoggerMonitorRunner(spider=Spider()).run(
        MonitorSuite(monitors=[monitors.ItemValidationMonitor]), stats=stats, crawler=crawler, spider=Spider())
    return stats, result


def comments(n: int, bad_every: int) -> list[items.SoundCloudComment]:
    return [items.SoundCloudComment(id=i + 1, created_at="01/09/2024" if i % bad_every == 0 else
                                    "2024-09-01T17:45:16Z") for i in range(n)]


def test_validation_samples_one_item_in_n_and_the_monitor_names_the_field() -> None:
    stats, result = run_validation(every=10, comments=comments(25, bad_every=10))
    assert stats["spidermon/validation/items"] == 3  # items 1, 11, 21 of the class
    [failed] = result.monitors_failed_results
    assert "3 of 3 items invalid" in failed.error and "created_at (invalid_datetime) x3" in failed.error


def test_valid_items_pass_the_validation_monitor() -> None:
    stats, result = run_validation(every=1, comments=comments(5, bad_every=10**6)[1:])
    assert stats["spidermon/validation/items"] == 4 and result.all_monitors_passed
