# ruff: noqa: E501  (the seed table keeps one track per line)
"""Deterministic Beatport catalogue for the replica.

Seeded from the real top 100 of 2025-09-07 (charts-vibe's scraper output, names,
ids, slugs, labels, genres, keys and BPMs as captured; name/mix split from the
URL slug) plus the one verbatim v4 track of the 2026-01-25 capture, then grown
with other versions of those tracks (Original <-> Extended, remixes on
separate releases), tracks by real electronic artists with made-up titles,
look-alike titles by different artists and the odd names and mix names the
reference lists (trailing spaces, "(feat. X)" in names, "feat. X" as a mix
name, "Max Styler Extended Rework", non-ASCII, ``&``/``<``/``>``).

Everything derives from ``CatalogueConfig.seed`` (``_rng``: blake2b, never the
salted ``hash()``), so a config always yields the same catalogue.  JSON is
rendered for the media base URL given to ``bind()``.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
import unicodedata
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = ["API", "GENRES", "KEYS", "REAL_MEDIA", "Catalogue", "CatalogueConfig", "Track", "build_catalogue",
           "search_tokens", "slugify"]

REAL_MEDIA = "https://geo-media.beatport.com"
REAL_SAMPLES = "https://geo-samples.beatport.com"
API = "https://api-internal.beatportprod.com/v4"
PLACEHOLDER_IMAGE = "ab2d1d04-233d-4b08-8234-9782b34dcab8"

# Beatport key ids (reference §3.3): 1-12 minor = camelot {id}A, 13-24 major =
# {id-12}B; 34 is the "Gb Minor" alias the charts show.
KEYS: dict[int, tuple[str, int, str]] = {
    1: ("Ab Minor", 1, "A"), 2: ("Eb Minor", 2, "A"), 3: ("Bb Minor", 3, "A"), 4: ("F Minor", 4, "A"),
    5: ("C Minor", 5, "A"), 6: ("G Minor", 6, "A"), 7: ("D Minor", 7, "A"), 8: ("A Minor", 8, "A"),
    9: ("E Minor", 9, "A"), 10: ("B Minor", 10, "A"), 11: ("F# Minor", 11, "A"), 12: ("Db Minor", 12, "A"),
    13: ("B Major", 1, "B"), 14: ("F# Major", 2, "B"), 15: ("Db Major", 3, "B"), 16: ("Ab Major", 4, "B"),
    17: ("Eb Major", 5, "B"), 18: ("Bb Major", 6, "B"), 19: ("F Major", 7, "B"), 20: ("C Major", 8, "B"),
    21: ("G Major", 9, "B"), 22: ("D Major", 10, "B"), 23: ("A Major", 11, "B"), 24: ("E Major", 12, "B"),
    34: ("Gb Minor", 11, "A"),
}
_KEY_BY_NAME = {name: kid for kid, (name, _, _) in KEYS.items()}

GENRES: dict[str, int] = {
    "Drum & Bass": 1, "House": 5, "Techno (Peak Time / Driving)": 6, "Trance (Main Floor)": 7, "Tech House": 11,
    "Deep House": 12, "Minimal / Deep Tech": 14, "Progressive House": 15, "Indie Dance": 37, "Dance / Pop": 39,
    "Nu Disco / Disco": 50, "Funky House": 81, "UK Garage / Bassline": 86, "Afro House": 89,
    "Melodic House & Techno": 90, "Bass House": 91, "Mainstage": 96,
}
SUB_GENRES: dict[str, int] = {
    "Progressive Trance": 27, "Deep Tech": 188, "Afro Melodic": 214, "Minimal House": 189, "Latin Tech": 230,
    "Afro / Latin": 215, "UK Garage": 198, "Jump Up": 174,
}

# (id, slug, name, mix, artists, remixers, label, genre, sub-genre, bpm, key)
# from the 2025-09-07 top 100; trailing spaces in names are real ("Time Away ").
SEED: list[tuple[Any, ...]] = [
    (21026596, "space-pump", "Space Pump (Space Jam)", "Extended Mix", ["Vinter (BR)"], [], "Nervous Records", "House", None, 128, "B Minor"),
    (21200241, "galvanize", "Galvanize", "Chris Lake Extended Mix", ["The Chemical Brothers"], ["Chris Lake"], "Positiva", "Dance / Pop", None, 128, "G Major"),
    (21111811, "sweet-nothing", "Sweet Nothing", "2025 Edit", ["Calvin Harris", "D.O.D"], [], "Sony Music CG", "Dance / Pop", None, 130, "Ab Minor"),
    (21250305, "dame-un-grrr-provi-remix", "Dame Un Grrr (Provi Remix)", "Extended Mix", ["Kate Linn", "Provi", "Fantomel"], [], "Make The Girls Dance Records", "Afro House", "Afro Melodic", 123, "Gb Minor"),
    (20832384, "walking-on-a-dream", "Walking On A Dream", "BLOND:ISH Extended Remix", ["Empire Of The Sun"], ["BLOND:ISH"], "EMI Music Australia", "Dance / Pop", None, 127, "F Minor"),
    (20895024, "liquor-store", "Liquor Store", "Extended Mix", ["Nate Dogg", "Kolter"], [], "Disorder", "House", None, 131, "E Major"),
    (21309496, "fancy-hit", "Fancy $hit ", "Extended Mix", ["CID", "Taylr Renee"], [], "Catch & Release", "Tech House", None, 129, "F Major"),
    (20790162, "cola", "Cola", "ARTBAT Extended Remix", ["CamelPhat", "Elderbrook"], ["ARTBAT"], "Defected", "Tech House", None, 125, "F Minor"),
    (20625808, "edge-of-desire", "Edge of Desire", "Extended Mix", ["Jonas Blue", "Malive"], [], "Defected", "House", None, 123, "G Major"),
    (20889654, "get-stupid", "Get Stupid", "Original Mix", ["Julian Fijma"], [], "tszr", "Minimal / Deep Tech", "Minimal House", 130, "Eb Major"),
    (20778427, "if-u-ever", "If U Ever", "Original Mix", ["Meloko", "Konvex (FR)", "Garla"], [], "Maccabi House", "Melodic House & Techno", None, 124, "E Major"),
    (21279414, "925", "925", "Extended Mix", ["Chris Lake", "Sammy Virji", "RoRo"], [], "Capitol Records UK", "Dance / Pop", None, 132, "G Minor"),
    (21089091, "cant-resist", "Can't Resist", "Original Mix", ["Jamback"], [], "ROSSI.HOME//GRXWN.", "Minimal / Deep Tech", "Deep Tech", None, "F Major"),
    (21030571, "every-night", "Every Night", "Original Mix", ["Max Styler", "Deomid"], [], "Diynamic", "Indie Dance", None, 128, "G Minor"),
    (20613902, "sakura", "Sakura", "Original Mix", ["Locklead", "Chris Stussy", "Across Boundaries"], [], "Up the Stuss", "Deep House", None, 130, "E Minor"),
    (20630687, "tesla", "TESLA", "Extended Mix", ["Mau P"], [], "Insomniac Records", "Tech House", None, 132, "F Major"),
    (20564331, "verano-en-ny", "Verano En NY", "Original Mix", ["Toman"], [], "Solid Grooves Records", "Tech House", "Latin Tech", 126, "G Major"),
    (21048828, "im-not-alone", "I'm Not Alone", "MPH Remix", ["Calvin Harris"], ["MPH"], "Columbia (Sony)", "UK Garage / Bassline", None, 135, "Eb Minor"),
    (21220988, "if-your-girl", "If Your Girl", "Extended", ["Ben Hemsley", "Gaskin"], [], "Ministry of Sound Recordings", "Dance / Pop", None, 133, "Eb Minor"),
    (21251156, "system", "System", "Extended Mix", ["Odd Mob", "OMNOM", "HYPERBEAM"], [], "Insomniac Records", "Tech House", None, 130, "E Major"),
    (20796447, "wtf", "WTF", "Original Mix", ["SCRIPT"], [], "tszr", "Tech House", None, 130, "F Minor"),
    (20601832, "no-broke-boys", "No Broke Boys", "Extended", ["Tinashe", "Disco Lines"], [], "GoodGood/NiceLife/Atlantic", "Dance / Pop", None, 131, "B Major"),
    (20803176, "make-believe", "Make Believe", "Extended Mix", ["Luke Dean", "Omar+"], [], "Insomniac Records", "Tech House", None, 133, "Eb Minor"),
    (21308633, "electric-bongo", "Electric Bongo", "Extended Mix", ["SIDEPIECE"], [], "Experts Only", "Tech House", None, 130, "F Major"),
    (20773562, "freak-like-me", "Freak Like Me", "Ben Kim Extended Remix", ["DJ Deeon", "Lee Walker"], ["Ben Kim"], "Defected", "House", None, 131, "E Minor"),
    (21025960, "i-dont-trust-a-soul", "I Don't Trust A Soul", "Extended Mix", ["Ship Wrek", "Disco Lines"], [], "Experts Only", "Tech House", None, 132, "F Major"),
    (20633751, "body-language", "Body Language", "Original Mix", ["Samm (BE)"], [], "Abracadabra Music", "House", None, 122, "C Minor"),
    (20505201, "like-i-like-it", "Like I Like It", "Original Mix", ["Mau P"], [], "Diynamic", "Tech House", None, 128, "Ab Major"),
    (20951177, "cash-out", "Cash Out", "Odd Mob Extended Remix", ["Bobby Shmurda", "SIDEPIECE"], ["Odd Mob"], "LIP SERVICE", "Tech House", None, 134, "Eb Major"),
    (21251942, "everytime", "Everytime", "Original Mix", ["Lustral", "IDEMI"], [], "Armada Music", "Deep House", None, 132, "Gb Minor"),
    (20896215, "side-man", "Side Man", "Extended Mix", ["Juos", "Techno Tupac"], [], "THRIVE MUSIC", "Bass House", None, 130, "E Major"),
    (21030841, "hold-on-let-go", "Hold On, Let Go ", "Extended Mix", ["Wayne Snow", "ANOTR", "3DDY"], [], "NO ART", "Afro House", None, 128, "Eb Minor"),
    (21030572, "get-down", "Get Down", "Original Mix", ["Max Styler", "Deomid"], [], "Diynamic", "Tech House", None, 128, "G Major"),
    (20601589, "londons-on-fire", "London's On Fire", "Extended Mix", ["Audio Bullys", "Chris Lorenzo", "Max Styler"], [], "Black Book Records", "Tech House", None, 130, "D Major"),
    (20613909, "da-resurrection", "Da Resurrection", "Original Mix", ["Locklead", "Chris Stussy", "Across Boundaries"], [], "Up the Stuss", "Deep House", None, 86, "E Minor"),
    (21029392, "interstellar", "Interstellar", "Extended Mix", ["Friction", "Circadian"], [], "Elevate Records", "Drum & Bass", None, 131, "F Minor"),
    (20613904, "rendevouz", "Rendevouz", "Original Mix", ["Locklead", "Chris Stussy", "Across Boundaries"], [], "Up the Stuss", "Deep House", None, 130, "A Minor"),
    (20648420, "fantasy", "Fantasy", "Original Mix", ["RSquared"], [], "RWorks", "Tech House", None, 128, "Bb Minor"),
    (21115340, "dont-cha-with-blondish", "Don't Cha (with BLOND:ISH)", "Extended Mix", ["Busta Rhymes", "BLOND:ISH", "The Pussycat Dolls"], [], "Pussycat Dolls", "Dance / Pop", None, 130, "Eb Major"),
    (20088037, "ma-tnsani-yalla-habibi-feat-ayasystem", "Ma Tnsani (Yalla Habibi) (feat. AYA.SYSTEM)", "Yalla Habibi", ["Vanco", "AYA.SYSTEM"], [], "Afro Republik", "Afro House", None, 120, "Db Minor"),
    (20911637, "where-all-my-people", "Where All My People", "Original Mix", ["Jamie Jones", "Nicole Moudaber", "House Of Molly"], [], "Hot Creations", "Tech House", None, 129, "G Minor"),
    (20821938, "time-away", "Time Away ", "Original Mix", ["SOSA (UK)"], [], "Eastenderz", "Deep House", None, 130, "D Minor"),
    (21295790, "when-it-kicks", "When It Kicks", "Extended Mix", ["Green Velvet", "Layton Giordani"], [], "MADMINDS", "Tech House", None, 129, "Eb Minor"),
    (21233193, "no-room-for-a-saint-feat-nathan-nicholson-walker-royce-remix", "No Room For A Saint (feat. Nathan Nicholson) (Walker & Royce Remix)", "feat. Nathan Nicholson", ["Dom Dolla", "Nathan Nicholson"], ["Walker & Royce"], "Atlantic Records", "Dance / Pop", None, 132, "G Major"),
    (20719741, "versatile", "Versatile", "Extended", ["L.P. Rhythm"], [], "Disorder", "House", None, 131, "D Major"),
    (21343699, "if-we-ever", "If We Ever", "Extended", ["High Contrast", "Overmono"], [], "XL Recordings", "Drum & Bass", None, 86, "D Minor"),
    (20789844, "sitting-in-the-sun-walking-in-the-rain", "Sitting In The Sun (Walking In The Rain)", "Walking In The Rain", ["DumitrEscu"], [], "Chaos Records", "Dance / Pop", None, 128, "Bb Minor"),
    (20692753, "power", "Power", "Original Mix", ["Babes on the Run"], [], "PornoStar Records", "Funky House", None, 128, "Db Major"),
    (20780011, "111", "111", "Extended", ["Ape Drums", "JAMIIE"], [], "VOD", "Afro House", None, 120, "C Major"),
    (20661162, "at-night", "At Night", "Anyma x Layton Giordani Extended Remix", ["Shakedown"], ["Layton Giordani", "Anyma (ofc)"], "Defected", "Melodic House & Techno", None, 127, "F Major"),
    (20709709, "front-2-back", "Front 2 Back", "Extended Mix", ["Jordan Peak"], [], "Defected", "House", None, 131, "Eb Minor"),
    (20713407, "be-where-i-am-feat-daniel-wilson", "Be Where I Am feat. Daniel Wilson", "Whitesquare Extended Remix", ["Metroplane", "Daniel Wilson"], ["Whitesquare"], "Club Sweat", "Indie Dance", None, 124, "A Minor"),
    (21048924, "leave-a-message-feat-poppy-wright-trick-shady", "Leave A Message (feat. Poppy Wright & Trick Shady)", "feat. Poppy Wright & Trick Shady", ["Josh Baker", "Trick Shady", "Poppy Wright"], [], "Baker's Dozen", "Deep House", None, 125, "B Minor"),
    (21089092, "attention", "Attention", "Original Mix", ["Jamback"], [], "ROSSI.HOME//GRXWN.", "Minimal / Deep Tech", "Deep Tech", 130, "F Minor"),
    (20912581, "i-like-it", "I Like It ", "Original Mix", ["Loboski", "SLESS"], [], "Wobbles & Waffles", "Drum & Bass", None, 87, "F Major"),
    (20626343, "hypnotized", "Hypnotized", "Extended Mix", ["Hatiras"], [], "Toolroom", "Tech House", None, 127, "F Major"),
    (20716546, "lost-in-music", "Lost In Music", "Original Mix", ["Joshwa"], [], "Hot Creations", "House", None, 130, "G Major"),
    (21092421, "posra", "Posra", "Original Mix", ["skantia"], [], "skant.net", "Drum & Bass", "Jump Up", 88, "Eb Major"),
    (21112750, "edge-of-desire", "Edge of Desire", "Jazz-N-Groove Extended Club Mix", ["Jonas Blue", "Malive"], ["Jazz-N-Groove"], "Defected", "House", None, 126, "A Minor"),
    (20515390, "cant-decide", "Can't Decide", "Extended", ["Max Dean", "Luke Dean", "Locky (UK)"], [], "neXup recz", "Deep House", None, 130, "Ab Major"),
    (20566956, "cash-out", "Cash Out", "EXTENDED MIX", ["Bobby Shmurda", "SIDEPIECE"], [], "LIP SERVICE", "Tech House", None, 130, "Eb Minor"),
    (20893039, "until-the-morning", "Until The Morning", "Extended Mix", ["MPH"], [], "MPH UK", "UK Garage / Bassline", "UK Garage", 135, "Eb Major"),
    (20674436, "positions", "Positions", "Extended", ["Adam Port", "Stryv", "Malachiii"], [], "Stryv, Malachiii, Adam Port", "Afro House", None, 122, "Ab Minor"),
    (21091592, "truth-peace-love-acid", "Truth, Peace, Love, Acid", "Original Mix", ["Alok", "ARTBAT"], [], "UPPERGROUND", "Melodic House & Techno", None, 127, "G Major"),
    (20975975, "free", "Free", "Extended Mix", ["Jewel Kid"], [], "Toolroom", "House", None, 128, "F Major"),
    (20884758, "pumpin-jumpin", "Pumpin Jumpin", "Extended", ["Bushbaby"], [], "Southpoint", "UK Garage / Bassline", None, 135, "E Minor"),
    (20718761, "you-are-in-my-system", "You Are In My System", "Philip George Extended Mix", ["Kerri Chandler", "Dennis Quin"], ["Philip George"], "Kaoz Theory", "House", None, 132, "Ab Major"),
    (20515501, "work-that-body", "Work That Body", "Extended Mix", ["Hugel", "Randoree"], [], "Make The Girls Dance Records", "Afro House", "Afro / Latin", 120, "D Major"),
    (20311844, "dont-stop", "Don't Stop", "Extended Mix", ["Prospa"], [], "CircoLoco Records", "Tech House", None, 128, "Eb Minor"),
    (20965348, "see-you-again", "See You Again", "Original Mix", ["&ME", "Rampa", "Adam Port", "Keinemusik", "Sevdaliza"], [], "Keinemusik", "Melodic House & Techno", None, 120, "Bb Minor"),
    (20884049, "ffm", "FFM ", "Original Mix", ["Ape Drums", "LUCH"], [], "Magnifik Music", "Afro House", None, 122, "C Major"),
    (20462394, "blessings", "Blessings", "Original Mix", ["Calvin Harris", "Clementine Douglas"], [], "Columbia (Sony)", "Dance / Pop", None, 130, "B Minor"),
    (20613907, "liquid-rocks", "Liquid Rocks", "Original Mix", ["Locklead", "Chris Stussy", "Across Boundaries"], [], "Up the Stuss", "Deep House", None, 133, "B Minor"),
    (20802256, "house-experience", "House Experience", "Extended Mix", ["Franco Moiraghi", "Earth n Days"], [], "HouseU", "House", None, 127, "D Minor"),
    (20613906, "e-motion", "E-Motion", "Original Mix", ["Locklead", "Chris Stussy", "Across Boundaries"], [], "Up the Stuss", "Deep House", None, 133, "F Minor"),
    (20789329, "spend-money", "Spend Money", "Original Mix", ["GREG (BR)", "Pedroz (BR)"], [], "ABRA X", "Tech House", None, 128, "C Major"),
    (20528357, "dior", "Dior", "Extended Mix", ["MK", "Chrystal"], [], "Columbia (Sony)", "House", None, 128, "E Minor"),
    (20450483, "appetite", "Appetite", "Extended Mix", ["Chris Lorenzo"], [], "Catch & Release", "Tech House", None, 132, "F Major"),
    (20791129, "do-it-again", "Do It Again", "Massano Extended Remix", ["The Chemical Brothers"], ["Massano"], "UMC (Universal Music Catalogue)", "Melodic House & Techno", None, 126, "E Minor"),
    (20614372, "fire-fire", "Fire Fire", "Extended Mix", ["Shimza", "Kasango", "AR/CO"], [], "Helix Records", "Afro House", None, 125, "G Minor"),
    (20327131, "in-the-moment", "In the Moment", "Adriatique Extended Remix", ["RÜFÜS DU SOL"], ["Adriatique"], "Rose Avenue/Reprise", "Melodic House & Techno", None, 124, "Bb Minor"),
    (20572171, "lipstick", "Lipstick", "Extended Mix", ["Alaia & Gallo"], [], "Toolroom", "Tech House", None, 128, "D Minor"),
    (20848856, "doin-it-feat-mc-dt", "Doin' It feat. MC DT", "Original Mix", ["MC DT", "Silva Bumpa"], [], "ATW Records", "UK Garage / Bassline", None, 138, "Ab Minor"),
    (20533994, "raw", "Raw", "Extended Mix", ["MPH"], [], "Black Book Records", "UK Garage / Bassline", "UK Garage", 132, "F Minor"),
    (20813900, "no-surrender-no-retreat", "NO SURRENDER (No Retreat)", "No Retreat", ["Sota", "Pirapus"], [], "State Of The Art", "Drum & Bass", None, 88, "D Major"),
    (20821940, "back-to-the-sound", "Back To The Sound ", "Original Mix", ["SOSA (UK)"], [], "Eastenderz", "Minimal / Deep Tech", None, 133, "Db Minor"),
    (20995986, "nite-life", "Nite Life", "M-High Extended Remix", ["Kim English"], ["M-High"], "Nervous Records", "House", None, 132, "C Minor"),
    (20462509, "backtrack-blow-up", "Backtrack Blow Up", "Max Styler Remix", ["Samantha Loveridge"], ["Max Styler"], "When Stars Align", "Indie Dance", None, 128, "D Major"),
    (21027823, "losing-control", "Losing Control", "Extended Mix", ["Marlon Hoffstadt", "KI/KI"], [], "Capitol Records", "Trance (Main Floor)", None, 148, "F Minor"),
    (21357374, "caje-feat-mydoz", "Caje feat. Mydoz", "Extended Mix", ["Nicone", "Sascha Braemer", "Tony Romera", "Hugel", "Mydoz"], [], "Defected", "Afro House", None, 124, "F Minor"),
    (21112751, "front-2-back", "Front 2 Back", "Dennis Quin Extended Remix", ["Jordan Peak"], ["Dennis Quin"], "Defected", "House", None, 83, "B Minor"),
    (20085129, "the-less-i-know-the-better", "The Less I Know The Better", "Extended Mix", ["Mau P"], [], "Nervous Records", "Tech House", None, 128, "E Major"),
    (20978661, "waterfalls", "Waterfalls", "Extended Mix", ["Bobby Harvey", "James Hype", "Sam Harper"], [], "Universal-Island Records Ltd.", "Dance / Pop", None, 138, "Gb Minor"),
    (20613905, "mindtrippin", "Mindtrippin'", "Original Mix", ["Locklead", "Chris Stussy", "Across Boundaries"], [], "Up the Stuss", "Deep House", None, 134, "A Major"),
    (20685834, "blackberries", "Blackberries", "Extended Mix", ["FISHER (OZ)", "bbyclose"], [], "Catch & Release", "Tech House", None, 130, "Gb Minor"),
    (20769977, "baiana-boa-noite-extended", "Baianá (Boa Noite) - Extended", "Boa Noite", ["Barbatuques", "Francis Mercier"], [], "Helix Records", "Afro House", None, 120, "D Minor"),
    (20788948, "we-we-we", "We We We", "Original Mix", ["DARCO 09"], [], "Maccabi House", "Indie Dance", None, 126, "F Major"),
    (20613908, "a-love-letter", "A Love Letter...", "Original Mix", ["Locklead", "Chris Stussy", "Across Boundaries"], [], "Up the Stuss", "Deep House", None, None, "E Minor"),
    (20777709, "bronchos-sandman", "Broncho's Sandman", "Original Mix", ["Kaufmann (DE)"], [], "Drumcode", "Techno (Peak Time / Driving)", None, 130, "D Major"),
    (20613903, "the-funktion", "The Funktion", "Original Mix", ["Locklead", "Chris Stussy", "Across Boundaries"], [], "Up the Stuss", "Deep House", None, 135, "D Major"),
    # Reference §3.3: the first track of the 2026-01-25 top 100, an odd mix name.
    (23011269, "greece-2000", "Greece 2000", "Max Styler Extended Rework", ["Three Drives", "Three Drives On A Vinyl"], ["Max Styler"], "Armada Music", "Trance (Main Floor)", "Progressive Trance", 129, "Ab Major"),
]

# The verbatim v4 track of tests/fixtures/beatport (top 100, 2026-01-25).
POSITIVE: dict[str, Any] = {
    "id": 22236272, "slug": "positive", "name": "Positive", "mix_name": "Extended Mix",
    "artist": (901156, "Jamback", "jamback", 26175924, "b85c9d70-669c-4159-b1e6-afed806870e9"),
    "catalog_number": "CLR0021BP", "encoded_date": "2025-10-15T18:30:03-06:00", "genre": "Minimal / Deep Tech",
    "sub_genre": "Deep Tech", "image": (45296614, "52dd0428-f363-429d-9c14-51de91d00104"), "isrc": "QMFMF2549086",
    "key": 19, "length_ms": 361875, "bpm": 130, "new_release_date": "2025-11-07", "pre_order_date": "2025-10-24",
    "publish_date": "2025-11-07", "current_status": 10,
    "release": (5510418, "Positive (Extended Mix)", "positive-extended-mix", 45297034,
                "32a7f2ce-b1fe-460f-83b1-f2011fafaed7"),
    "label": (96392, "CircoLoco Records", "circoloco-records", 39996727, "41d12693-7ea5-4340-902a-b9b36d603300"),
    "sample": ("4f27e137-c415-46d6-ab5c-abb32089ac7a", 107000, 227000),
}

# Real electronic artists for the made-up tracks (names only).
ARTIST_POOL = [
    "Âme", "Kölsch", "Ben Böhmer", "Tiësto", "Röyksopp", "Sébastien Léger", "Øostil", "Jan Blomqvist",
    "Monolink", "Adriatique", "Mind Against", "Tale Of Us", "Innellea", "Agents Of Time", "Hernan Cattaneo",
    "Solomun", "Maceo Plex", "DJ Koze", "Purple Disco Machine", "John Summit", "Dom Dolla", "Disclosure",
    "Eli Brown", "Charlotte de Witte", "Amelie Lens", "I Hate Models", "Sara Landry", "Kettama",
    "Interplanetary Criminal", "Salute", "Hamdi", "Nia Archives", "Bou", "Hedex", "Chase & Status", "Sub Focus",
    "Wilkinson", "Dimension", "Camo & Krooked", "Above & Beyond", "Armin van Buuren", "Ferry Corsten",
    "Andrew Rayel", "Black Coffee", "Enoo Napa", "Caiiro", "Da Capo", "Themba", "Keinemusik", "Rampa",
    "Chris Stussy", "Prunk", "East End Dubs", "Josh Baker", "Archie Hamilton", "Sonny Fodera", "Dennis Cruz",
    "Mochakk", "Vintage Culture", "Argy", "Stephan Bodzin", "Boris Brejcha", "ANNA", "Reinier Zonneveld",
    "Hi-Lo", "Oliver Heldens", "Joel Corry", "Fred again..", "Skrillex", "Four Tet", "Floating Points",
    "Bicep", "Ben UFO", "Peggy Gou", "Honey Dijon", "Folamour", "Moodymann", "Kerri Chandler", "Marco Carola",
    "Loco Dice", "Richie Hawtin", "Paco Osuna", "Michael Bibi", "PAWSA", "Mark Knight", "Gorgon City",
    "Camelphat", "Meduza", "Tinlicker", "Lane 8", "Yotto", "Nora En Pure", "Eric Prydz", "deadmau5", "Kaskade",
    "Mëstiza", "Nicolas Jaar", "Jamie xx", "Overmono", "Joy Orbison", "Sammy Virji", "Bakey", "Conducta",
    "Girls Don't Sync", "Riordan", "DJ Seinfeld", "Partiboi69", "Mall Grab", "Ross From Friends",
]
# SoundCloud-only artists: never on this Beatport (look-alike uploads, bootlegs).
UNRELEASED_ARTISTS = [
    "DJ Nightshift", "Lunar Drift", "Kassiopea", "Moth & Flame", "Twin Harbour", "Velvet Youth", "Groovemaster K",
    "Saint Ferro", "Nova Lux", "Dub Theory", "Mika Sol", "The Late Shift", "Ruben Vargas", "Orbit Kid",
    "Kaleido", "Marlo Vance", "Ferro & Kite", "Soul Signal", "Neon Pilgrims", "Tomas Riviera",
]
EXTRA_LABELS = [
    "Anjunadeep", "Afterlife", "Innervisions", "Kompakt", "Drumcode", "Hot Creations", "Toolroom", "Defected",
    "Armada Music", "Spinnin' Records", "Hospital Records", "RAM Records", "Ninja Tune", "Warp Records",
    "Crosstown Rebels", "Solid Grooves Records", "Rejected", "Ministry of Sound Recordings", "Cercle Records",
    "Keinemusik", "Get Physical Music", "Dirtybird", "Repopulate Mars", "Big Beat Records", "Catch & Release",
]
_WORDS_A = [
    "Midnight", "Velvet", "Golden", "Electric", "Silent", "Neon", "Lost", "Broken", "Hidden", "Endless", "Burning",
    "Frozen", "Crystal", "Wild", "Deep", "Cosmic", "Liquid", "Solar", "Lunar", "Paper", "Blue", "Red", "Tokyo",
    "Berlin", "Ibiza", "Desert", "Ocean", "Sacred", "Holy", "Dirty", "Sweet", "Bitter", "Heavy", "Weightless",
]
_WORDS_B = [
    "Dreams", "Signal", "Rhythm", "Lights", "Memories", "Horizon", "Voices", "Waves", "Garden", "Machine",
    "Paradise", "Fever", "Shadows", "Heart", "Echoes", "Motion", "Gravity", "Spirit", "Nights", "Sunrise",
    "Groove", "Tension", "Ritual", "Frequency", "Pressure", "Mirage", "Temple", "Circuit", "Bloom", "Orbit",
]
_PHRASES = [
    "Tell Me Why", "Don't Let Go", "Keep On Moving", "Feel It", "Take Me Higher", "All Night Long", "Body Talk",
    "Let It Go", "Move Your Body", "Back To You", "Show Me Love", "In My Head", "Say My Name", "Set Me Free",
    "Running Away", "Lose Control", "Hold Me Close", "The Way You Move", "Never Enough", "One More Time",
    "Día de Sol", "Noche Eterna", "Ça Va", "Über Alles", "Mañana", "I <3 Acid", "Rise & Fall", "Love > Fear",
    "Dance 4 Me", "24/7", "Déjà Vu", "Café del Mar", "Ritmo", "Bass & Bliss", "Into My Life", "Move It",
]
# Look-alike titles: the same words as a seed title, another song by others.
LOOKALIKE_TITLES = ["Sakura", "Free", "Power", "System", "Raw", "Fantasy", "Dior", "Interstellar", "Hypnotized",
                    "Lost In Music", "Everytime", "Blessings", "WTF", "Lipstick", "Appetite", "Positions",
                    "Attention", "Get Down", "Front 2 Back", "Until The Morning"]
_ODD_MIXES = ["Club Mix", "Radio Edit", "Dub", "Instrumental", "VIP", "Extended Version", "Original Version",
              "2024 Rework", "Dub Mix", "Extended Club Mix"]


def _rng(*parts: object) -> random.Random:
    digest = hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def _uuid(*parts: object) -> str:
    return str(uuid.UUID(bytes=hashlib.blake2b(repr(parts).encode(), digest_size=16).digest(), version=4))


def slugify(name: str) -> str:
    """Beatport's slugs: folded, punctuation dropped ("BLOND:ISH" -> "blondish"), spaces as hyphens."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[^a-z0-9\s-]", "", text)  # punctuation goes: "BLOND:ISH" -> "blondish"
    return re.sub(r"[\s-]+", "-", text).strip("-") or "-"


def search_tokens(text: str) -> list[str]:
    """The search service's analyser: folded, lower case, apostrophes joined,
    split on anything else."""
    text = unicodedata.normalize("NFKD", text.replace("ø", "o").replace("Ø", "O"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower().replace("'", "").replace("’", "")
    return [t for t in re.split(r"[^a-z0-9]+", text) if t]


@dataclass
class Named:
    """What the catalogue holds of an artist and of a label alike."""

    id: int
    name: str
    slug: str
    image_id: int
    image_uuid: str


class Artist(Named):
    pass


class Label(Named):
    pass


NamedT = TypeVar("NamedT", bound=Named)


@dataclass
class Release:
    id: int
    name: str
    slug: str
    label: Label
    image_id: int
    image_uuid: str
    catalog_number: str
    new_release_date: str
    publish_date: str
    pre_order_date: str


@dataclass
class Track:
    id: int
    name: str
    mix_name: str
    slug: str
    artists: list[Artist]
    remixers: list[Artist]
    release: Release
    genre: str
    sub_genre: str | None
    bpm: int | None
    key_id: int | None
    length_ms: int
    isrc: str | None
    image_id: int
    waveform_uuid: str
    sample_uuid: str
    sample_start_ms: int
    encoded_date: str
    status_id: int
    exclusive: bool
    price: float
    work: str  # tracks of one work share it (title + main artists)
    kind: str  # plain | remix | odd
    seed: bool = False
    available_worldwide: bool = True

    @property
    def title(self) -> str:
        return f"{self.name.strip()} ({self.mix_name})" if self.mix_name else self.name.strip()


@dataclass(frozen=True)
class CatalogueConfig:
    seed: int = 7
    extra_tracks: int = 260
    # Share of plain seed tracks that get the other plain cut (Original <-> Extended).
    second_cut_share: float = 0.45
    # Share of seed tracks that get a remix on a remix release.
    remix_share: float = 0.3


@dataclass
class Catalogue:
    config: CatalogueConfig
    tracks: dict[int, Track] = field(default_factory=dict)
    artists: dict[str, Artist] = field(default_factory=dict)
    labels: dict[str, Label] = field(default_factory=dict)
    media_url: str = REAL_MEDIA
    samples_url: str = REAL_SAMPLES
    _index: dict[str, set[int]] = field(default_factory=dict)
    _doc_tokens: dict[int, set[str]] = field(default_factory=dict)
    _idf: dict[str, float] = field(default_factory=dict)

    def bind(self, media_url: str, samples_url: str | None = None) -> None:
        """Image URLs point at ``media_url`` (previews at ``samples_url``) from now on."""
        self.media_url = media_url.rstrip("/")
        if samples_url:
            self.samples_url = samples_url.rstrip("/")

    def by_sample_uuid(self, uuid_: str) -> Track | None:
        if not hasattr(self, "_samples"):
            self._samples = {t.sample_uuid: t for t in self.tracks.values()}
        return self._samples.get(uuid_)

    @staticmethod
    def preview_truth(t: Track) -> tuple[int, str, str]:
        """(bpm, tonic, scale) the track's synthesised preview is played in:
        its own bpm and key, or a seeded stand-in when the catalogue has none."""
        rng = _rng("preview", t.id)
        bpm = t.bpm or rng.randrange(110, 150)
        name = KEYS[t.key_id][0] if t.key_id is not None else KEYS[rng.randrange(1, 25)][0]
        tonic, scale = name.split(" ")
        return bpm, tonic, scale.lower()

    # -- lookups -----------------------------------------------------------------------
    def works(self) -> dict[str, list[Track]]:
        by_work: dict[str, list[Track]] = defaultdict(list)
        for t in self.tracks.values():
            by_work[t.work].append(t)
        return by_work

    def image_kind(self, uuid_: str) -> str | None:
        """"waveform", "artwork", "artist", "label" or None (unknown uuid)."""
        return self._images().get(uuid_)

    def _images(self) -> dict[str, str]:
        if not hasattr(self, "_image_kinds"):
            kinds: dict[str, str] = {}
            for t in self.tracks.values():
                kinds[t.waveform_uuid] = "waveform"
                kinds[t.release.image_uuid] = "artwork"
                kinds[t.release.label.image_uuid] = "label"
                for a in (*t.artists, *t.remixers):
                    kinds[a.image_uuid] = "artist"
            self._image_kinds = kinds
        return self._image_kinds

    # -- search --------------------------------------------------------------------------
    def _build_index(self) -> None:
        index: dict[str, set[int]] = defaultdict(set)
        for t in self.tracks.values():
            words = [t.name, t.mix_name, *(a.name for a in t.artists), *(a.name for a in t.remixers)]
            tokens = set(search_tokens(" ".join(words)))
            self._doc_tokens[t.id] = tokens
            for tok in tokens:
                index[tok].add(t.id)
        n = len(self.tracks)
        self._index = dict(index)
        self._idf = {tok: math.log(1 + n / len(ids)) for tok, ids in index.items()}

    def search(self, query: str) -> list[tuple[Track, float]]:
        """Tracks for a query, best first: a track must contain at least half
        of the query's words (name, mix, artists, remixers); score = sum of
        the matched words' idf, plus a bonus when the whole name is in the
        query [I: how the real service ranks is not documented]."""
        if not self._index:
            self._build_index()
        words = list(dict.fromkeys(search_tokens(query)))
        if not words:
            return []
        hits: dict[int, list[str]] = defaultdict(list)
        for w in words:
            for tid in self._index.get(w, ()):
                hits[tid].append(w)
        need = math.ceil(len(words) / 2)
        query_norm = " ".join(search_tokens(query))
        results = []
        for tid, matched in hits.items():
            if len(matched) < need:
                continue
            track = self.tracks[tid]
            score = sum(self._idf[w] for w in matched)
            name_norm = " ".join(search_tokens(track.name))
            if name_norm and f" {name_norm} " in f" {query_norm} ":
                score += 2.0
            score -= 0.3 * len(self._doc_tokens[tid] - set(words)) / max(1, len(self._doc_tokens[tid]))
            results.append((track, score))
        results.sort(key=lambda r: (-r[1], -r[0].id))
        return results

    # -- JSON ----------------------------------------------------------------------------
    def _image(self, image_id: int, uuid_: str, size: str, ext: str = "jpg") -> dict[str, Any]:
        return {"id": image_id, "uri": f"{self.media_url}/image_size/{size}/{uuid_}.{ext}",
                "dynamic_uri": f"{self.media_url}/image_size/{{w}}x{{h}}/{uuid_}.{ext}"}

    def _artist(self, a: Artist) -> dict[str, Any]:
        return {"id": a.id, "image": self._image(a.image_id, a.image_uuid, "590x404"), "name": a.name,
                "slug": a.slug, "url": f"{API}/catalog/artists/{a.id}/"}

    def v4_track(self, t: Track) -> dict[str, Any]:
        """The v4 track object as ``pageProps.track`` holds it (reference §3.3):
        no label field (the label is ``release.label``), the waveform in
        ``image``, the artwork in ``release.image``, GBP prices."""
        key: dict[str, Any] | None = None
        if t.key_id is not None:
            name, number, letter = KEYS[t.key_id]
            note, chord = name.split(" ")
            key = {"camelot_number": number, "camelot_letter": letter,
                   "chord_type": {"id": 2 if chord == "Major" else 1, "name": chord,
                                  "url": f"{API}/catalog/chord-types/{2 if chord == 'Major' else 1}/"},
                   "id": t.key_id, "is_sharp": "#" in note, "is_flat": note.endswith("b") and len(note) == 2,
                   "letter": note[0], "name": name, "url": f"{API}/catalog/keys/{t.key_id}/"}
        status = {7: "Exclusive", 8: "New Release", 10: "General Content"}[t.status_id]
        genre_id = GENRES[t.genre]
        sub = None
        if t.sub_genre:
            sid = SUB_GENRES[t.sub_genre]
            sub = {"id": sid, "name": t.sub_genre, "slug": slugify(t.sub_genre),
                   "url": f"{API}/catalog/sub-genres/{sid}/", "enabled": True}
        r = t.release
        art_ext = "jpg"
        release_image = self._image(r.image_id, r.image_uuid, "1400x1400", art_ext)
        minutes, seconds = divmod(t.length_ms // 1000, 60)
        return {
            "artists": [self._artist(a) for a in t.artists],
            "publish_status": "published", "available_worldwide": t.available_worldwide, "bpm": t.bpm, "bsrc_remixer": [],
            "catalog_number": r.catalog_number,
            "current_status": {"id": t.status_id, "name": status, "url": f"{API}/auxiliary/current-status/{t.status_id}/"},
            "encoded_date": t.encoded_date, "exclusive": t.exclusive, "free_downloads": [],
            "free_download_start_date": None, "free_download_end_date": None,
            "genre": {"id": genre_id, "name": t.genre, "slug": slugify(t.genre), "url": f"{API}/catalog/genres/{genre_id}/"},
            "id": t.id,
            "image": self._image(t.image_id, t.waveform_uuid, "1500x250", "png"),
            "is_available_for_streaming": True, "is_explicit": False, "is_ugc_remix": False, "is_dj_edit": False,
            "isrc": t.isrc, "key": key, "label_track_identifier": None,
            "length": f"{minutes}:{seconds:02d}", "length_ms": t.length_ms, "mix_name": t.mix_name, "name": t.name,
            "new_release_date": r.new_release_date, "pre_order": False, "pre_order_date": r.pre_order_date,
            "price": {"code": "GBP", "symbol": "£", "value": t.price, "display": f"£{t.price:.2f}"},
            "publish_date": r.publish_date,
            "release": {"id": r.id, "name": r.name, "image": release_image,
                        "label": {"id": r.label.id, "name": r.label.name,
                                  "image": self._image(r.label.image_id, r.label.image_uuid, "500x500"),
                                  "slug": r.label.slug},
                        "slug": r.slug},
            "remixers": [self._artist(a) for a in t.remixers],
            "sale_type": {"id": 1, "name": "purchase", "url": f"{API}/auxiliary/sale-types/1/"},
            "sample_url": f"{self.samples_url}/track/{t.sample_uuid}.LOFI.mp3",
            "sample_start_ms": t.sample_start_ms, "sample_end_ms": t.sample_start_ms + 120000,
            "slug": t.slug, "sub_genre": sub, "url": f"{API}/catalog/tracks/{t.id}/", "is_hype": t.id % 11 == 0,
        }

    def search_item(self, t: Track, score: float) -> dict[str, Any]:
        """A search-service track (reference §3.4): prefixed names, remixers
        inside ``artists``, ``length`` in ms, ``genre`` an array (an object for
        some items: the real service is not consistent)."""
        r = t.release
        genre: Any = [{"genre_id": GENRES[t.genre], "genre_name": t.genre}]
        if t.id % 7 == 0:
            genre = genre[0]
        key = KEYS.get(t.key_id) if t.key_id is not None else None
        date = f"{r.publish_date}T00:00:00"
        return {
            "score": round(score * 1000, 1), "track_id": t.id, "track_name": t.name, "mix_name": t.mix_name,
            "track_number": 1, "bpm": t.bpm, "key_id": t.key_id, "key_name": key[0] if key else None,
            "chord_type_id": (2 if key[0].endswith("Major") else 1) if key else None,
            "length": t.length_ms, "isrc": t.isrc, "catalog_number": r.catalog_number,
            "publish_date": date, "release_date": f"{r.new_release_date}T00:00:00", "encode_status": "complete",
            "artists": [{"artist_id": a.id, "artist_name": a.name, "artist_type_name": "Artist"} for a in t.artists]
            + [{"artist_id": a.id, "artist_name": a.name, "artist_type_name": "Remixer"} for a in t.remixers],
            "genre": genre,
            "sub_genre": ({"sub_genre_id": SUB_GENRES[t.sub_genre], "sub_genre_name": t.sub_genre}
                          if t.sub_genre else None),
            "label": {"label_id": r.label.id, "label_name": r.label.name, "enabled": 1},
            "release": {"release_id": r.id, "release_name": r.name,
                        "release_image_uri": f"{self.media_url}/image_size/1400x1400/{r.image_uuid}.jpg",
                        "release_image_dynamic_uri": f"{self.media_url}/image_size/{{w}}x{{h}}/{r.image_uuid}.jpg"},
            "track_image_uri": f"{self.media_url}/image_size/1500x250/{t.waveform_uuid}.png",
            "track_image_dynamic_uri": f"{self.media_url}/image_size/{{w}}x{{h}}/{t.waveform_uuid}.png",
            "price": {"code": "GBP", "symbol": "£", "value": t.price, "display": f"£{t.price:.2f}"},
            "is_available_for_streaming": 1, "is_explicit": 0, "exclusive": 1 if t.exclusive else 0,
        }


class _Builder:
    def __init__(self, config: CatalogueConfig):
        self.config = config
        self.cat = Catalogue(config)
        self.used_ids: set[int] = set()

    def _id(self, kind: str, lo: int, hi: int, *parts: object) -> int:
        rng = _rng(self.config.seed, "id", kind, *parts)
        while True:
            value = rng.randrange(lo, hi)
            if (kind, value) not in self.used_ids:
                self.used_ids.add((kind, value))  # type: ignore[arg-type]
                return value

    def _named(self, kind: type[NamedT], key: str, known: dict[str, NamedT], max_id: int, name: str) -> NamedT:
        """The artist or label called ``name``, made (ids, image) the first time it is named."""
        if name not in known:
            known[name] = kind(
                self._id(key, 1000, max_id, name), name, slugify(name),
                self._id("image", 10_000_000, 46_000_000, key, name), _uuid(self.config.seed, key, name))
        return known[name]

    def artist(self, name: str) -> Artist:
        return self._named(Artist, "artist", self.cat.artists, 1_500_000, name)

    def label(self, name: str) -> Label:
        return self._named(Label, "label", self.cat.labels, 130_000, name)

    def release(self, name: str, label: str, rng: random.Random, *, placeholder: bool = False) -> Release:
        lab = self.label(label)
        year = rng.randrange(2019, 2026)
        month, day = rng.randrange(1, 13), rng.randrange(1, 29)
        date = f"{year}-{month:02d}-{day:02d}"
        prefix = re.sub(r"[^A-Z]", "", lab.name.upper())[:3] or "REC"
        image_uuid = PLACEHOLDER_IMAGE if placeholder else _uuid(self.config.seed, "release", name, label)
        return Release(
            self._id("release", 2_800_000, 5_600_000, name, label), name, slugify(name), lab,
            self._id("image", 10_000_000, 46_000_000, "release", name, label), image_uuid,
            f"{prefix}{rng.randrange(1, 999):03d}", date, date, date)

    def track(self, *, tid: int | None, name: str, mix: str, artists: list[str], remixers: list[str],
              release: Release, genre: str, sub_genre: str | None, bpm: int | None, key: str | int | None,
              length_ms: int, work: str, kind: str, rng: random.Random, slug: str | None = None,
              seed: bool = False) -> Track:
        tid = tid or self._id("track", 15_000_000, 23_900_000, name, mix, tuple(artists))
        self.used_ids.add(("track", tid))  # type: ignore[arg-type]
        key_id = key if isinstance(key, int) or key is None else _KEY_BY_NAME[key]
        isrc = None if rng.random() < 0.12 else f"{rng.choice(['GB', 'US', 'DE', 'NL', 'QM'])}" \
            f"{''.join(rng.choices('ABCDEFGHJKLMNPQRSTUVWXYZ0123456789', k=3))}{rng.randrange(18, 26)}" \
            f"{rng.randrange(0, 99999):05d}"
        status = rng.choice([8, 10, 10, 10, 7])
        t = Track(
            id=tid, name=name, mix_name=mix, slug=slug or slugify(name), artists=[self.artist(a) for a in artists],
            remixers=[self.artist(r) for r in remixers], release=release, genre=genre, sub_genre=sub_genre,
            bpm=bpm, key_id=key_id, length_ms=length_ms, isrc=isrc,
            image_id=self._id("image", 10_000_000, 46_000_000, "wave", tid),
            waveform_uuid=_uuid(self.config.seed, "waveform", tid),
            sample_uuid=_uuid(self.config.seed, "sample", tid) if rng.random() < 0.8
            else _uuid(self.config.seed, "waveform", tid),
            sample_start_ms=rng.randrange(30, 150) * 1000,
            encoded_date=f"{release.publish_date}T{rng.randrange(0, 24):02d}:{rng.randrange(60):02d}:"
                         f"{rng.randrange(60):02d}-0{rng.choice([6, 7])}:00",
            status_id=status, exclusive=status == 7, price=rng.choice([1.14, 1.49, 1.79, 2.29]), work=work,
            kind=kind, seed=seed, available_worldwide=rng.random() < 0.7)
        self.cat.tracks[tid] = t
        return t


def _length(kind: str, rng: random.Random, genre: str = "") -> int:
    lo, hi = {"extended": (330, 450), "original": (200, 400), "remix": (300, 440), "radio": (150, 210),
              "odd": (240, 420)}[kind]
    if genre == "Drum & Bass":
        lo, hi = lo - 20, hi - 40
    return rng.randrange(lo * 1000, hi * 1000)


def _is_extended(mix: str) -> bool:
    return "extended" in mix.lower()


def _plain(mix: str) -> bool:
    return mix.strip().lower() in {"original mix", "extended mix", "extended", "original"}


def build_catalogue(config: CatalogueConfig | None = None) -> Catalogue:
    config = config or CatalogueConfig()
    b = _Builder(config)
    seed_rng = _rng(config.seed, "seed-tracks")
    # The real sample track, verbatim.
    p = POSITIVE
    aid, aname, aslug, aimg, auuid = p["artist"]
    b.cat.artists[aname] = Artist(aid, aname, aslug, aimg, auuid)
    lid, lname, lslug, limg, luuid = p["label"]
    b.cat.labels[lname] = Label(lid, lname, lslug, limg, luuid)
    rid, rname, rslug, rimg, ruuid = p["release"]
    release = Release(rid, rname, rslug, b.cat.labels[lname], rimg, ruuid, p["catalog_number"],
                      p["new_release_date"], p["publish_date"], p["pre_order_date"])
    positive = b.track(tid=p["id"], name=p["name"], mix=p["mix_name"], artists=[aname], remixers=[], release=release,
                       genre=p["genre"], sub_genre=p["sub_genre"], bpm=p["bpm"], key=p["key"],
                       length_ms=p["length_ms"], work="positive", kind="plain", rng=seed_rng, slug=p["slug"],
                       seed=True)
    positive.image_id, positive.waveform_uuid = p["image"]
    positive.sample_uuid, positive.sample_start_ms = p["sample"][0], p["sample"][1]
    positive.isrc, positive.encoded_date, positive.status_id = p["isrc"], p["encoded_date"], p["current_status"]
    positive.exclusive, positive.price, positive.available_worldwide = False, 1.14, False

    # The real top 100 (and the reference's Greece 2000).
    for row in SEED:
        tid, slug, name, mix, artists, remixers, label, genre, sub, bpm, key = row
        rng = _rng(config.seed, "seed", tid)
        kind = "plain" if _plain(mix) else ("remix" if remixers else "odd")
        length_kind = "extended" if _is_extended(mix) else ("original" if kind == "plain" else "remix")
        work = f"seed:{slugify(name)}:{slugify(artists[0])}" + ("" if kind == "plain" else f":{slugify(mix)}")
        rel = b.release(f"{name.strip()} ({mix})" if mix else name.strip(), label, rng,
                        placeholder=tid % 37 == 0)
        b.track(tid=tid, name=name, mix=mix, artists=artists, remixers=remixers, release=rel, genre=genre,
                sub_genre=sub, bpm=bpm, key=key, length_ms=_length(length_kind, rng, genre), work=work, kind=kind,
                rng=rng, slug=slug, seed=True)

    seeds = [t for t in b.cat.tracks.values() if t.seed]
    # Other cuts of plain seeds, on the same release.
    for t in seeds:
        rng = _rng(config.seed, "cut", t.id)
        if t.kind != "plain" or rng.random() >= config.second_cut_share:
            continue
        extended = _is_extended(t.mix_name)
        other = "Original Mix" if extended else "Extended Mix"
        delta = rng.randrange(50, 120) * 1000
        length = t.length_ms - delta if extended else t.length_ms + delta
        b.track(tid=None, name=t.name, mix=other, artists=[a.name for a in t.artists], remixers=[],
                release=t.release, genre=t.genre, sub_genre=t.sub_genre, bpm=t.bpm, key=t.key_id,
                length_ms=length, work=t.work, kind="plain", rng=rng)
    # Remixes of seeds, on "(Remixes)" releases.
    pool = ARTIST_POOL
    for t in seeds:
        rng = _rng(config.seed, "remix", t.id)
        if t.kind != "plain" or rng.random() >= config.remix_share:
            continue
        names = {a.name for a in t.artists}
        remixer = rng.choice([a for a in pool if a not in names])
        style = rng.choice(["{r} Remix", "{r} Extended Remix", "{r} Rework", "{r} Dub", "{r} Extended Rework"])
        rel = b.release(f"{t.name.strip()} (Remixes)", t.release.label.name, rng)
        b.track(tid=None, name=t.name, mix=style.format(r=remixer), artists=[a.name for a in t.artists],
                remixers=[remixer], release=rel, genre=t.genre, sub_genre=None, bpm=t.bpm,
                key=rng.choice(list(KEYS)), length_ms=_length("remix", rng, t.genre),
                work=f"{t.work}:remix:{slugify(remixer)}", kind="remix", rng=rng)

    # Made-up tracks by real artists.
    labels = sorted({s[6] for s in SEED} | set(EXTRA_LABELS))
    genres = list(GENRES)
    titles_used: set[tuple[str, str]] = set()
    for n in range(config.extra_tracks):
        rng = _rng(config.seed, "extra", n)
        if n < len(LOOKALIKE_TITLES):
            title = LOOKALIKE_TITLES[n]
        elif rng.random() < 0.35:
            title = rng.choice(_PHRASES)
        elif rng.random() < 0.5:
            title = f"{rng.choice(_WORDS_A)} {rng.choice(_WORDS_B)}"
        else:
            title = rng.choice(_WORDS_B if rng.random() < 0.5 else _WORDS_A)
        count = rng.choices([1, 2, 3], weights=[6, 3, 1])[0]
        artists = rng.sample(pool, count)
        if (slugify(title), slugify(artists[0])) in titles_used:
            continue
        titles_used.add((slugify(title), slugify(artists[0])))
        genre = rng.choice(genres)
        label = rng.choice(labels)
        bpm = 174 if genre == "Drum & Bass" else rng.randrange(118, 134)
        key = rng.choice(list(KEYS))
        roll = rng.random()
        work = f"extra:{slugify(title)}:{slugify(artists[0])}"
        name = title
        if title == "Move It":
            name = "Move It "  # real: a trailing space in the name
        if title == "Into My Life":
            name, artists = "Into My Life (feat. Joyce Sims)", [*artists, "Joyce Sims"]
        if roll < 0.45:
            mix = rng.choice(["Original Mix", "Extended Mix"])
            rel = b.release(f"{name.strip()} ({mix})", label, rng, placeholder=rng.random() < 0.04)
            t = b.track(tid=None, name=name, mix=mix, artists=artists, remixers=[], release=rel, genre=genre,
                        sub_genre=None, bpm=bpm, key=key, length_ms=_length("extended" if _is_extended(mix)
                                                                            else "original", rng, genre),
                        work=work, kind="plain", rng=rng)
            if rng.random() < 0.35:
                other = "Original Mix" if _is_extended(mix) else "Extended Mix"
                delta = rng.randrange(50, 120) * 1000
                b.track(tid=None, name=name, mix=other, artists=artists, remixers=[], release=rel, genre=genre,
                        sub_genre=None, bpm=bpm, key=key,
                        length_ms=t.length_ms - delta if _is_extended(mix) else t.length_ms + delta,
                        work=work, kind="plain", rng=rng)
        elif roll < 0.75:
            remixer = rng.choice([a for a in pool if a not in artists])
            style = rng.choice(["{r} Remix", "{r} Extended Remix", "{r} Rework", "{r}'s 2025 Edit - Extended",
                                "{r} Extended Rework", "{r} Remix - Extended"])
            rel = b.release(f"{name.strip()} (Remixes)", label, rng)
            if rng.random() < 0.5:  # the original as well
                b.track(tid=None, name=name, mix="Original Mix", artists=artists, remixers=[], release=rel,
                        genre=genre, sub_genre=None, bpm=bpm, key=key, length_ms=_length("original", rng, genre),
                        work=work, kind="plain", rng=rng)
            b.track(tid=None, name=name, mix=style.format(r=remixer), artists=artists, remixers=[remixer],
                    release=rel, genre=genre, sub_genre=None, bpm=bpm, key=rng.choice(list(KEYS)),
                    length_ms=_length("remix", rng, genre), work=f"{work}:remix:{slugify(remixer)}", kind="remix",
                    rng=rng)
        else:
            mix = rng.choice(_ODD_MIXES)
            if name.startswith("Into My Life"):
                mix = "feat. Joyce Sims"
            rel = b.release(f"{name.strip()} ({mix})", label, rng)
            b.track(tid=None, name=name, mix=mix, artists=artists, remixers=[], release=rel, genre=genre,
                    sub_genre=None, bpm=bpm, key=key,
                    length_ms=_length("radio" if "Radio" in mix else "odd", rng, genre),
                    work=f"{work}:{slugify(mix)}", kind="odd" if mix != "feat. Joyce Sims" else "plain", rng=rng)
    # A few tracks whose key Beatport has not analysed.
    for t in list(b.cat.tracks.values()):
        if not t.seed and t.id % 29 == 0:
            t.key_id = None
    return b.cat
