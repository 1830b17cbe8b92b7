"""Matching SoundCloud titles to Beatport tracks, the rules one by one (the
quality on a labelled set is test_beatport_matching_replica.py)."""

from __future__ import annotations

import pytest

from soundscraping.sites.beatport.matching import (
    Candidate,
    artist_key,
    best_match,
    limit_parentheses,
    normalise_title,
    parse_upload,
    score_candidate,
    search_queries,
    split_artists,
)

# -- reading titles -------------------------------------------------------------------------------

@pytest.mark.parametrize(("title", "uploader", "artists", "featured", "title_out", "mixes"), [
    ("ARTIST ONE - Tell Me Why (Original Mix) [TOOLROOM]", None, ("ARTIST ONE",), (), "Tell Me Why",
     ("Original Mix",)),
    ("PREMIERE: Vinter (BR) - Space Pump (Space Jam) (Extended Mix)", None, ("Vinter (BR)",), (),
     "Space Pump (Space Jam)", ("Extended Mix",)),
    ("🔥 CamelPhat & Elderbrook - Cola (ARTBAT Remix) [FREE DL] 🔥", "ARTBAT", ("CamelPhat", "Elderbrook"), (),
     "Cola", ("ARTBAT Remix",)),
    ("Silva Bumpa ft. MC DT - Doin' It", None, ("Silva Bumpa",), ("MC DT",), "Doin' It", ()),
    ("Josh Baker - Leave A Message (feat. Poppy Wright & Trick Shady) | OUT NOW", None, ("Josh Baker",),
     ("Poppy Wright", "Trick Shady"), "Leave A Message", ()),
    ("Tesla (Extended Mix)", "Mau P Official", ("Mau P",), (), "Tesla", ("Extended Mix",)),
    ("[OUT NOW] Chris Lake x Sammy Virji – 925 #house", None, ("Chris Lake", "Sammy Virji"), (), "925", ()),
    ("Meduza - Día de Sol (Keinemusik Remix - Extended)", None, ("Meduza",), (), "Día de Sol",
     ("Keinemusik Remix - Extended",)),
    ("Locklead - Sakura - Extended Mix", None, ("Locklead",), (), "Sakura", ("Extended Mix",)),
])
def test_reading_soundcloud_titles(title: str, uploader: str | None, artists: tuple[str, ...],
                                   featured: tuple[str, ...], title_out: str, mixes: tuple[str, ...]) -> None:
    upload = parse_upload(title, uploader)
    assert (upload.artists, upload.featured, upload.title, upload.mixes) == (artists, featured, title_out, mixes)


def test_remixers_and_normalisation() -> None:
    upload = parse_upload("Shakedown - At Night (Anyma x Layton Giordani Extended Remix)")
    assert upload.remixers == ("Anyma", "Layton Giordani")
    assert parse_upload("A - B (2025 Edit)").remixers == ()
    assert parse_upload("A - B (Kölsch's 2025 Edit - Extended)").remixers == ("Kölsch",)
    assert normalise_title("Hold On, Let Go ") == normalise_title("hold on let go")
    assert normalise_title("Fancy $hit") == "fancy shit" and normalise_title("Rise & Fall") == "rise and fall"
    assert artist_key("RÜFÜS DU SOL") == artist_key("Rufus Du Sol") and artist_key("D.O.D") == "dod"
    assert artist_key("Vinter (BR)") == "vinter"
    assert split_artists("&ME, Rampa & Adam Port feat. Sevdaliza") == ["ME", "Rampa", "Adam Port", "Sevdaliza"]


def test_queries_keep_at_most_one_pair_of_parentheses() -> None:
    assert limit_parentheses("A (B) (C) ((D))") == "A (B) C D"
    assert limit_parentheses("A ) B (C") == "A B C"
    for title in ("X (feat. Y) - Song (Z Remix) (Extended Mix) [LABEL]", "A (BR) & B (UK) - C (D) (E Remix)"):
        for query in search_queries(parse_upload(title)):
            assert query.count("(") <= 1 and query.count(")") <= 1, query
    assert search_queries(parse_upload("Mau P - Tesla")) == ["Mau P Tesla", "Tesla"]
    assert search_queries(parse_upload("🔥🔥🔥 [FREE DL]")) == []


# -- scoring -----------------------------------------------------------------------------------------

def _candidate(name: str, mix: str, artists: tuple[str, ...], remixers: tuple[str, ...] = (), length: int = 360_000,
               track_id: int = 1) -> Candidate:
    return Candidate(track_id, name, mix, artists, remixers, length, "Label")


def test_gates() -> None:
    cola_remix = _candidate("Cola", "ARTBAT Extended Remix", ("CamelPhat", "Elderbrook"), ("ARTBAT",))
    # An upload of the original does not match the only (remix) release ...
    assert not score_candidate(parse_upload("CamelPhat & Elderbrook - Cola"), cola_remix).accepted
    # ... but the remix upload does, credits in any order, "Extended" or not.
    assert score_candidate(parse_upload("Elderbrook & CamelPhat - Cola (ARTBAT Remix)"), cola_remix).accepted
    original = _candidate("Sakura", "Original Mix", ("Locklead", "Chris Stussy"))
    assert not score_candidate(parse_upload("Locklead - Sakura (Nova Lux Bootleg)"), original).accepted
    assert not score_candidate(parse_upload("Nova Lux - Sakura"), original).accepted, "look-alike by others"
    assert not score_candidate(parse_upload("Locklead - Sakura Dreams"), original).accepted, "another song"
    assert score_candidate(parse_upload("Chris Stussy - Sakura [UP THE STUSS]"), original).accepted


def test_the_stated_cut_and_the_duration_decide_between_cuts() -> None:
    extended = _candidate("Positive", "Extended Mix", ("Jamback",), length=361_875, track_id=1)
    original = _candidate("Positive", "Original Mix", ("Jamback",), length=250_000, track_id=2)
    both = [original, extended]
    match, _ = best_match(parse_upload("Jamback - Positive (Extended Mix)", duration_ms=250_500), both, 0.75)
    assert match is not None and match.candidate.track_id == 1, "the stated cut wins over the duration"
    match, _ = best_match(parse_upload("Jamback - Positive", duration_ms=250_500), both, 0.75)
    assert match is not None and match.candidate.track_id == 2, "no cut stated: the duration decides"
    match, best = best_match(parse_upload("Jamback - Positive"), [], 0.75)
    assert match is None and best is None
