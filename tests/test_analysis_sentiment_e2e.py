"""Comment sentiment: the music lexicon fixes VADER's misreadings, other
languages get NULL, the labelled set meets the target on its held-out split,
and ``soundscraping sentiment`` scores incrementally on both engines."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from scripts.eval_sentiment import figures, load
from soundscraping.analysis.sentiment import (
    MusicSentiment,
    PlainVader,
    music_lexicon,
    music_model_version,
    parse_lexicon,
)
from soundscraping.storage import Database
from tests.crawl import REPO, query
from tests.test_project_scrapyd_e2e import egg  # noqa: F401 - the fixture


@pytest.fixture(scope="module")
def model() -> MusicSentiment:
    return MusicSentiment()


@pytest.mark.parametrize("text", ["sick", "insane", "killer", "fire", "🔥", "this drop is insane 🔥🔥",
                                  "Absolute tune 🔥🔥🔥", "Tune", "tuuuune", "this goes hard", "❤️❤️"])
def test_field_slang_that_plain_vader_reads_as_negative_is_praise(model: MusicSentiment, text: str) -> None:
    score = model.score(text)
    assert score.label == "positive", (text, score)
    assert score.language in ("en", "zxx")


def test_plain_vader_really_misreads_them() -> None:
    plain = PlainVader().score_many(["sick", "killer", "this drop is insane 🔥🔥"])
    assert all(s.compound < -0.3 for s in plain)


@pytest.mark.parametrize("text", ["not fire at all", "this ain't it", "mixdown is muddy", "pretty mid tbh", "👎"])
def test_criticism_stays_negative(model: MusicSentiment, text: str) -> None:
    assert model.score(text).label == "negative", text


@pytest.mark.parametrize("text,language", [("que temazo hermano, me encanta esta canción", "es"),
                                           ("Привет из Москвы, очень круто", "ru"),
                                           ("神曲すぎる", "ja"), ("geiler track, richtig geil", "de")])
def test_languages_the_model_does_not_cover_get_null_not_a_wrong_score(model: MusicSentiment, text: str,
                                                                        language: str) -> None:
    score = model.score(text)
    assert (score.compound, score.label, score.language) == (None, None, language)


def test_comments_without_words_are_scored_from_their_emoji(model: MusicSentiment) -> None:
    assert model.score("🔥🔥🔥").language == "zxx"
    assert model.score("🔥🔥🔥").label == "positive"
    assert model.score("2:31").label == "neutral"
    assert model.score(None).compound is None  # no body: nothing to score


def test_usernames_and_urls_are_not_opinions(model: MusicSentiment) -> None:
    assert model.score("@killer_dj_666 check this https://hate.example/awful").label == "neutral"


def test_every_lexicon_entry_is_justified_and_on_vaders_scale() -> None:
    entries = music_lexicon()
    assert len(entries) >= 100
    assert all(e.reason and -4 <= e.valence <= 4 for e in entries)
    assert len({e.entry.lower() for e in entries}) == len(entries), "an entry is listed twice"
    with pytest.raises(ValueError, match="reason"):
        parse_lexicon("sick\t2.0\n")
    with pytest.raises(ValueError, match="scale"):
        parse_lexicon("sick\t9\tpraise\n")


def test_labelled_set_meets_the_target_on_its_held_out_split() -> None:
    rows = load()
    assert len(rows) >= 300 and {r["source"] for r in rows} == {"real", "written"}
    test = [r for r in rows if r["split"] == "test"]
    texts = [r["text"] for r in test]
    music = figures(test, MusicSentiment().score_many(texts))
    plain = figures(test, PlainVader().score_many(texts))
    assert music["macro_f1"] >= 0.75
    assert music["macro_f1"] - plain["macro_f1"] >= 0.15
    assert music["other_unscored"] >= 0.9


# --- soundscraping sentiment -----------------------------------------------------------

COMMENTS = [(1, 10, "this drop is insane 🔥🔥"), (2, 10, "que temazo hermano"), (3, 10, "mixdown is muddy"),
            (4, 10, None), (5, 11, "🔥🔥"), (6, 11, "ID?")]


def sentiment_command(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "soundscraping", "sentiment", "--database-url", url, *args],
                          cwd=REPO, capture_output=True, text=True, timeout=300)


def add_comments(url: str, rows: list[tuple[int, int, str | None]]) -> None:
    db = Database.from_url(url)
    db.connect()
    db.ensure_schema()
    db.write({"soundcloud_comments": [(cid, track, 7, body, 1000 * cid, None) for cid, track, body in rows]})
    db.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/sentiment.sqlite3"
    return request.getfixturevalue("pg_url")


def test_sentiment_command_scores_only_what_the_current_model_has_not(database_url: str) -> None:
    add_comments(database_url, COMMENTS[:4])
    part = sentiment_command(database_url, "--limit", "1")  # as if stopped after one batch
    assert part.returncode == 0, part.stderr
    assert "scored 1 comments" in part.stdout and "3 still to score" in part.stdout
    first = sentiment_command(database_url, "--batch-size", "2")
    assert first.returncode == 0, first.stderr
    assert "scored 3 comments" in first.stdout
    version = music_model_version()
    rows = {r[0]: r[1:] for r in query(database_url, "SELECT comment_id, label, language, model_version, compound "
                                                     "FROM soundcloud_comment_sentiment")}
    assert rows[1][:3] == ("positive", "en", version)
    assert rows[2][0] is None and rows[2][1] == "es" and rows[2][3] is None
    assert rows[3][0] == "negative"
    assert rows[4] == (None, None, version, None)

    again = sentiment_command(database_url)
    assert "scored 0 comments" in again.stdout

    add_comments(database_url, COMMENTS[4:])
    db = Database.from_url(database_url)
    db.execute(["UPDATE soundcloud_comment_sentiment SET model_version = 'vader-0+music-old' WHERE comment_id = 1"])
    db.close()
    third = sentiment_command(database_url)
    assert "scored 3 comments" in third.stdout, third.stdout  # two new ones, one scored by an old version
    assert query(database_url, "SELECT COUNT(*) FROM soundcloud_comment_sentiment WHERE model_version = %s",
                 (version,))[0][0] == 6


def test_sentiment_command_reports_a_dead_database_in_one_line() -> None:
    result = sentiment_command("postgresql://postgres@127.0.0.1:1/none")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "soundscraping sentiment: error:" in result.stderr


def test_the_lexicon_travels_inside_the_scrapyd_egg(egg: Path, tmp_path: Path) -> None:  # noqa: F811
    """Run from the egg alone (zipimport, another folder): the data files are
    read with importlib.resources, not from the source tree."""
    with zipfile.ZipFile(egg) as z:
        names = set(z.namelist())
    assert {"soundscraping/analysis/music_lexicon.tsv", "soundscraping/analysis/english_words.txt"} <= names
    code = ("import soundscraping.analysis.sentiment as s; assert '.egg' in s.__file__, s.__file__; "
            "m = s.MusicSentiment(); print(len(s.music_lexicon()), m.score('sick tune').label)")
    result = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(egg)!r}); {code}"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(len(music_lexicon())), "positive"]
