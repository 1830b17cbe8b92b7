"""Matching SoundCloud uploads to Beatport tracks: pure functions, no I/O.

``parse_upload()`` reads what an upload claims to be from its title as
uploaders write it ("PREMIERE: A & B - Title (C Remix) [LABEL] 🔥"), its
uploader's name and its duration.  ``search_queries()`` gives the Beatport
searches for it (never more than one pair of parentheses: the real site
answers 403 to more).  ``score_candidate()`` compares it with one track a
search returned, on the normalised title, the mix (remix, edit, original …),
the artists in any order (remixers and feat. credits included) and the
duration; ``best_match()`` accepts the best candidate at or above a threshold.

The quality of these rules is measured on a labelled set of SoundCloud-style
titles (tests/test_beatport_matching.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

__all__ = [
    "Candidate", "MixInfo", "Scored", "Upload", "artist_key", "best_match", "limit_parentheses", "mix_info",
    "normalise_title", "parse_upload", "score_candidate", "search_queries", "split_artists",
]

# Score weights; without a duration on both sides its weight is left out.
WEIGHTS = {"title": 0.40, "artists": 0.30, "mix": 0.25, "duration": 0.05}
# Below these a candidate is rejected whatever its total: a different song,
# nobody in common, or a version the upload is not (an unreleased bootleg of a
# released original must not match the original).
MIN_TITLE = 0.85
MIN_MIX = 0.25

_FEAT = r"(?:feat\.?|ft\.?|featuring)"
_FEAT_RE = re.compile(rf"\b{_FEAT}\s+", re.IGNORECASE)
_FEAT_TAIL = re.compile(rf"\s+\(?{_FEAT}\s+.*$", re.IGNORECASE)
# Words that make a bracketed group a version ("mix") rather than part of the title.
_MIX_WORDS = {
    "mix", "remix", "rmx", "edit", "rework", "dub", "bootleg", "vip", "flip", "refix", "version", "extended",
    "original", "instrumental", "radio", "reedit", "remake", "remode", "reprise", "acapella", "remaster",
    "remastered", "club", "mixed",
}
# Tags uploaders add that say nothing about the recording.
_TAG_WORDS = {
    "free", "dl", "download", "out", "now", "premiere", "premier", "exclusive", "preview", "clip", "snippet",
    "teaser", "buy", "link", "in", "description", "click", "hype", "world", "new", "sc", "soundcloud", "supported",
    "support", "by", "played", "on", "beatport", "charting", "chart", "top", "bio", "id", "release", "forthcoming",
    "available", "the", "at", "#1", "1", "no.1", "10", "100",
}
_TAG_CORE = {"free", "download", "dl", "premiere", "premier", "exclusive", "preview", "clip", "snippet", "teaser",
             "buy", "out", "forthcoming", "supported", "played", "charting"}
_PREFIX = re.compile(
    r"^\s*(?:(?:exclusive|world|hype|free|premiere|premi[eè]re|premier|out\s*now|free\s*dl|free\s*download|"
    r"download|preview|new|ep|track|single|id)\s*)+(?:[:|»>~/]+|\s-\s|\s–\s)\s*",
    re.IGNORECASE,
)
_TAG_ALT = (r"(?:out\s*now|free\s*(?:dl|download)|premiere|preview|buy\s*(?:link|now)?|click\s*buy|"
            r"forthcoming|available\s*now)")
# A tag after a separator may have a tail ("| OUT NOW ON BEATPORT"); without
# one it must end the title.
_SUFFIX = re.compile(
    rf"(?:\s*(?:[|/~•»]+|\s-\s)\s*{_TAG_ALT}\b[^|()\[\]]*|\s+{_TAG_ALT}\s*[!.]*)\s*$",
    re.IGNORECASE,
)
# Whole words only: "Daft Punk" holds "ft", "Featherstone" holds "feat".
_ARTIST_SPLIT = re.compile(
    rf"\s*(?:,|&|\+|;|\b(?:and|x|vs\.?|b2b|with|meets|{_FEAT})(?=\s|$))\s*",
    re.IGNORECASE,
)
_DASHES = str.maketrans({"–": "-", "—": "-", "‒": "-", "−": "-", "‐": "-", "’": "'", "‘": "'", "´": "'",
                         "`": "'", "“": '"', "”": '"', "【": "[", "】": "]", "「": "[", "」": "]", "｜": "|"})
_SEPARATOR = re.compile(r"\s+-{1,2}\s+|\s+-(?=[^\s\d-])|(?<=[^\s-])-\s+")
_GROUP = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]|\{([^{}]*)\}")
_BRACKETS = re.compile(r"\[([^\[\]]*)\]|\{([^{}]*)\}")
_UPLOADER_NOISE = re.compile(r"\s*(?:\(official\)|official|music|\(music\)|records?)\s*$", re.IGNORECASE)


def _fold(text: str) -> str:
    """Lower case ASCII-ish text: accents folded (Ü -> u, ø -> o)."""
    text = unicodedata.normalize("NFKD", text.replace("ø", "o").replace("Ø", "O").replace("ß", "ss"))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def clean_text(text: str) -> str:
    """NFKC, plain dashes and quotes, no emojis or decorative symbols, one space."""
    text = unicodedata.normalize("NFKC", text).translate(_DASHES)
    kept = []
    for c in text:
        cat = unicodedata.category(c)
        if cat in ("So", "Cs", "Co", "Cn", "Cf") or c in "\ufe0f\ufe0e\u20e3":
            kept.append(" ")
        else:
            kept.append(c)
    return re.sub(r"\s+", " ", "".join(kept)).strip()


def normalise_title(text: str) -> str:
    """A title for comparison: folded, ``&`` as "and", ``$`` as "s",
    apostrophes and dots dropped, other punctuation as spaces."""
    text = _fold(clean_text(text)).replace("&", " and ").replace("$", "s")
    text = re.sub(r"['.]", "", text)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def artist_key(name: str) -> str:
    """An artist for comparison: folded, no disambiguator ("Vinter (BR)"),
    letters and digits only ("D.O.D" == "DOD", "KI/KI" == "Ki Ki")."""
    name = re.sub(r"\([^)]*\)", " ", clean_text(name))
    return re.sub(r"[^a-z0-9]+", "", _fold(name))


def split_artists(text: str) -> list[str]:
    """Names in a credit ("A & B x C feat. D") as written, in order, once each."""
    parts = [p.strip(" -.'\"") for p in _ARTIST_SPLIT.split(clean_text(text))]
    seen: dict[str, str] = {}
    for part in parts:
        key = artist_key(part)
        if key and key not in seen:
            seen[key] = part
    return list(seen.values())


def _words(text: str) -> list[str]:
    return normalise_title(text).split()


def _is_tag(text: str) -> bool:
    """A bracketed group that only advertises ("FREE DL", "OUT NOW", "Premiere")."""
    words = [w.strip("!:") for w in _fold(clean_text(text)).replace("/", " ").split()]
    return bool(words) and bool(set(words) & _TAG_CORE) and all(w in _TAG_WORDS or w.startswith("#") or w == ""
                                                                 for w in words)


def _is_mix(text: str) -> bool:
    """A version group: "X Remix", "Extended Mix", "Re-Edit", "VIP"."""
    return bool((set(_words(text)) | set(_words(text.replace("-", "")))) & _MIX_WORDS)


def _feat_names(text: str) -> list[str] | None:
    """The names of a feat./with credit group, or None when it is not one."""
    m = re.match(rf"^\s*(?:{_FEAT}|with)\s+(.+)$", clean_text(text), re.IGNORECASE)
    return split_artists(m.group(1)) if m else None


# -- what an upload claims to be ---------------------------------------------------------

@dataclass(frozen=True)
class Upload:
    """What a SoundCloud upload says it is."""

    title: str  # the title without artists, mix or tags; non-version brackets kept
    artists: tuple[str, ...] = ()  # main artists as written
    featured: tuple[str, ...] = ()
    mixes: tuple[str, ...] = ()  # version groups: "C Remix", "Extended Mix"
    remixers: tuple[str, ...] = ()
    uploader: str | None = None
    # True when the title named no artist and the uploader is taken as one.
    artist_from_uploader: bool = False
    duration_ms: int | None = None

    @property
    def all_artists(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.artists, *self.featured, *self.remixers)))


def parse_upload(title: str, uploader: str | None = None, duration_ms: int | None = None) -> Upload:
    """Read "ARTIST - Title (Original Mix) [LABEL]" and the ways uploaders
    vary it: PREMIERE:/OUT NOW/FREE DL tags, emojis, feat. credits on either
    side, remix credits, several bracketed groups, no artist at all (then the
    uploader is the artist)."""
    text = clean_text(title or "")
    text = re.sub(r"(?<!\w)[#@][\w.]+", " ", text)  # hashtags, @mentions
    mixes: list[str] = []
    featured: list[str] = []

    def take_group(m: re.Match[str]) -> str:
        inner = next(g for g in m.groups() if g is not None).strip()
        if not inner or _is_tag(inner):
            return " "
        if (names := _feat_names(inner)) is not None:
            featured.extend(names)
            return " "
        if _is_mix(inner):
            mixes.append(inner)
            return " "
        if m.group(0).startswith("("):
            return m.group(0)  # part of the title: "Space Pump (Space Jam)"
        return " "  # [LABEL], {tags}

    # Brackets first: "[OUT NOW]", "[LABEL]", "{tags}" go, "[X Remix]" is kept.
    text = _BRACKETS.sub(take_group, text)
    for _ in range(3):  # tags and prefixes may hide each other
        before = text
        text = _PREFIX.sub("", text)
        text = _SUFFIX.sub("", text)
        text = re.sub(r"\s+", " ", text).strip(" |~•»/")
        if text == before:
            break

    parts = _split_outside_brackets(text, maxsplit=1)
    artist_part, title_part = (parts[0], parts[1]) if len(parts) == 2 and parts[0].strip() else ("", text)
    # A trailing "- Extended Mix" after the title is a version too.
    tail = _split_outside_brackets(title_part)
    if len(tail) > 1 and _is_mix(tail[-1]) and "(" not in tail[-1]:
        mixes.append(tail[-1].strip())
        title_part = " - ".join(tail[:-1])
    title_part = _GROUP.sub(take_group, title_part)
    title_part = _FEAT_TAIL.sub(lambda m: (featured.extend(split_artists(_FEAT_RE.split(m.group(0), 1)[-1])), "")[1],
                                title_part)
    artist_part = _GROUP.sub(take_group, artist_part)
    main, *feat = _FEAT_RE.split(artist_part, maxsplit=1)
    if feat:
        featured.extend(split_artists(feat[0]))
    artists = split_artists(main)
    from_uploader = False
    if not artists and uploader:
        name = _UPLOADER_NOISE.sub("", clean_text(uploader)).strip() or clean_text(uploader)
        artists, from_uploader = [name], True
    remixers: list[str] = []
    for mix in mixes:
        remixers.extend(_mix_credit(mix))
    title_clean = re.sub(r"\s+", " ", title_part).strip(" -|~.,:")
    keys = {artist_key(a) for a in artists}
    return Upload(
        title=title_clean, artists=tuple(artists),
        featured=tuple(f for f in dict.fromkeys(featured) if artist_key(f) not in keys),
        mixes=tuple(mixes), remixers=tuple(remixers), uploader=uploader,
        artist_from_uploader=from_uploader, duration_ms=duration_ms,
    )


def _split_outside_brackets(text: str, maxsplit: int = 0) -> list[str]:
    """Split on " - " separators that are not inside brackets
    ("Title (X Remix - Extended)" keeps its version group whole)."""
    parts, start, depth = [], 0, [0] * (len(text) + 1)
    level = 0
    for i, c in enumerate(text):
        if c in "([{":
            level += 1
        elif c in ")]}" and level:
            level -= 1
        depth[i] = level
    for m in _SEPARATOR.finditer(text):
        if depth[m.start()] == 0 and (not maxsplit or len(parts) < maxsplit):
            parts.append(text[start:m.start()])
            start = m.end()
    parts.append(text[start:])
    return parts


_REMIX_TYPES = {"remix", "rmx", "edit", "rework", "bootleg", "flip", "refix", "reedit", "remake", "remode", "dub",
                "vip", "instrumental", "acapella", "reprise"}
_GENERIC = {"original", "extended", "mix", "version", "main", "club", "vocal", "album", "full", "length", "radio",
            "short", "long", "remastered", "remaster", "the", "a", "special",
            "and", "s", "re", "12", "7", "inch", "single", "dj", "deep", "live", "x", "vs", "b2b", "feat", "ft",
            "with"}


def _mix_credit(mix: str) -> list[str]:
    """Who made a version: "Anyma x Layton Giordani Extended Remix" ->
    [Anyma, Layton Giordani]; "Extended Mix" and "2025 Edit" -> []."""
    words = clean_text(mix).replace("Re-Edit", "ReEdit").replace("re-edit", "reedit").split()
    while words and (normalise_title(words[-1]) in (_REMIX_TYPES | _GENERIC) or not normalise_title(words[-1])
                     or normalise_title(words[-1]).isdigit()):
        words.pop()
    if not words or all(normalise_title(w) in _GENERIC or normalise_title(w).isdigit() for w in words):
        return []
    credit = " ".join(words)
    credit = re.sub(r"'s$", "", credit)
    return split_artists(credit)


# -- versions ---------------------------------------------------------------------------

@dataclass(frozen=True)
class MixInfo:
    """A version as words: who made it (``names``) and what it is (``types``)."""

    names: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()
    radio: bool = False
    extended: bool = False
    original: bool = False
    given: bool = False  # the upload named a version at all

    @property
    def named(self) -> bool:
        return bool(self.names or self.types)


def mix_info(mixes: Iterable[str | None]) -> MixInfo:
    names: set[str] = set()
    types: set[str] = set()
    radio = extended = original = given = False
    for mix in mixes:
        if not mix or not mix.strip():
            continue
        text = re.sub(rf"\b{_FEAT}\s+.*$", "", clean_text(mix), flags=re.IGNORECASE)
        words = normalise_title(text.replace("Re-Edit", "ReEdit").replace("re-edit", "reedit")).split()
        if not words:
            continue
        given = True
        radio |= "radio" in words or "short" in words
        extended |= "extended" in words
        original |= "original" in words
        found_types = {w if w != "rmx" else "remix" for w in words if w in _REMIX_TYPES}
        found_names = {w for w in words if w not in _GENERIC and w not in _REMIX_TYPES}
        if found_types == {"edit"} and not found_names:
            found_types = set()  # "Radio Edit", "Extended Edit": a cut, not someone's version
        types |= found_types
        names |= found_names
    return MixInfo(frozenset(names), frozenset(types), radio, extended, original, given)


def _version_groups(name: str) -> tuple[str, list[str]]:
    """A Beatport name without version groups, and those groups:
    "Dame Un Grrr (Provi Remix)" -> ("Dame Un Grrr", ["Provi Remix"])."""
    groups: list[str] = []

    def take(m: re.Match[str]) -> str:
        inner = m.group(1)
        if _feat_names(inner) is None and _is_mix(inner):
            groups.append(inner)
            return " "
        return m.group(0)

    return re.sub(r"\(([^()]*)\)", take, name), groups


def mix_similarity(upload: MixInfo, candidate: MixInfo, upload_title: str = "",
                   remixer_credited: bool = False) -> float:
    """How well the candidate's version fits the one the upload names."""
    if upload.named:
        if not candidate.named:
            return 0.0  # a remix/edit/bootleg the site does not have
        if upload.names:
            common = sum(1 for n in upload.names if n in candidate.names)
            fit = common / len(upload.names)
        else:
            fit = 1.0 if upload.types & candidate.types else 0.5
        if upload.types and candidate.types and not upload.types & candidate.types:
            remixy = {"remix", "rework", "edit", "refix", "flip", "bootleg", "reedit", "remake", "remode"}
            fit *= 0.9 if (upload.types <= remixy and candidate.types <= remixy) else 0.7
        return fit * _cut_fit(upload, candidate)
    if candidate.named:
        # The upload names no version: it is this one only if its title or
        # its credits say so ("Ma Tnsani (Yalla Habibi)"; uploaded by the remixer).
        title_words = set(normalise_title(upload_title).split())
        if candidate.names and candidate.names <= title_words:
            return 1.0
        if remixer_credited:
            return 0.9
        return 0.2
    if candidate.radio != upload.radio:
        return 0.7 if upload.given else 0.8
    if not upload.given:
        return 1.0
    return _cut_fit(upload, candidate)


def _cut_fit(upload: MixInfo, candidate: MixInfo) -> float:
    """Original vs Extended: the same recording cut differently, but an
    upload that says which cut it is should get that one."""
    if (upload.extended and candidate.original) or (upload.original and candidate.extended):
        return 0.7
    if upload.extended != candidate.extended or upload.original != candidate.original:
        return 0.9 if upload.named or candidate.named else 0.85
    return 1.0


# -- candidates and scores --------------------------------------------------------------------

@dataclass(frozen=True)
class Candidate:
    """A track a Beatport search returned (search-service fields)."""

    track_id: int
    name: str
    mix_name: str | None = None
    artists: tuple[str, ...] = ()
    remixers: tuple[str, ...] = ()
    length_ms: int | None = None
    label: str | None = None
    rank: int = 0  # position in the search results

    @property
    def display(self) -> str:
        mix = f" ({self.mix_name})" if self.mix_name else ""
        return f"{', '.join(self.artists)} - {self.name.strip()}{mix}"


@dataclass(frozen=True)
class Scored:
    candidate: Candidate
    score: float
    parts: dict[str, float] = field(default_factory=dict)
    accepted: bool = True  # passed every gate (title, artists, mix)


def _ratio(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def _title_variants(text: str) -> set[str]:
    base = _FEAT_TAIL.sub("", text)
    variants = {text, base, re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", base)}
    return {v for v in (normalise_title(x) for x in variants) if v}


def _word_overlap(a: str, b: str) -> float:
    """Share of words on both sides that have a counterpart (typos allowed):
    a title with an extra word ("Sakura Dreams") is another song."""
    wa, wb = a.split(), b.split()
    if not wa or not wb:
        return 0.0
    matched = sum(1 for w in wa if any(w == v or (len(w) >= 3 and _ratio(w, v) >= 0.8) for v in wb))
    matched_b = sum(1 for v in wb if any(v == w or (len(v) >= 3 and _ratio(w, v) >= 0.8) for w in wa))
    return (matched + matched_b) / (len(wa) + len(wb))


def title_similarity(upload_title: str, candidate_name: str) -> float:
    """Best similarity of the two titles, with and without feat. credits and
    subtitles in brackets (the mix groups are compared separately): the mean
    of a character and a word comparison."""
    name, _ = _version_groups(candidate_name)
    best = 0.0
    for a in _title_variants(upload_title):
        for b in _title_variants(name):
            if a == b:
                return 1.0
            best = max(best, (_ratio(a, b) + _word_overlap(a, b)) / 2)
    return best


def _artists_match(a: str, b: str) -> bool:
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    if len(short) >= 5 and long_.startswith(short):
        return True  # "Chris Lake Music" uploading as "Chris Lake"
    return len(short) >= 6 and _ratio(a, b) >= 0.9  # a typo


def _keys(names: Iterable[str]) -> list[str]:
    keys: list[str] = []
    for name in names:
        for part in split_artists(name) or [name]:
            key = artist_key(part)
            if key and key not in keys:
                keys.append(key)
    return keys


def artist_similarity(upload: Upload, candidate: Candidate) -> tuple[float, bool]:
    """Share of the upload's artists (main, feat., remixers) that the
    candidate credits, blended with the share of the candidate's main artists
    the upload names; and whether any credited remixer is among them."""
    name_feat = []
    m = re.search(rf"\b{_FEAT}\s+([^()]+)", candidate.name, re.IGNORECASE)
    if m:
        name_feat = split_artists(m.group(1))
    theirs = _keys([*candidate.artists, *candidate.remixers, *name_feat])
    main = _keys(candidate.artists) or theirs
    remixer_keys = _keys(candidate.remixers)
    ours = _keys(upload.all_artists)
    if not ours or not theirs:
        return 0.0, False
    found = [o for o in ours if any(_artists_match(o, t) for t in theirs)]
    main_ours = _keys(upload.artists)
    if found and main_ours and not upload.artist_from_uploader and not set(found) & set(main_ours):
        # Only a feat. credit in common: another artist's song with the same guest.
        return 0.0, False
    if not found:
        if upload.artist_from_uploader and upload.uploader and candidate.label and _artists_match(
                artist_key(_UPLOADER_NOISE.sub("", upload.uploader) or upload.uploader), artist_key(candidate.label)):
            return 0.8, False  # a label channel uploading its own release
        return 0.0, False
    covered = sum(1 for t in main if any(_artists_match(o, t) for o in ours))
    remixer_credited = any(_artists_match(o, r) for o in found for r in remixer_keys)
    return 0.75 * len(found) / len(ours) + 0.25 * covered / len(main), remixer_credited


def duration_similarity(upload_ms: int | None, candidate_ms: int | None) -> float | None:
    if not upload_ms or not candidate_ms:
        return None
    diff = abs(upload_ms - candidate_ms) / 1000
    if diff <= 3:
        return 1.0
    if diff <= 10:
        return 0.85
    if diff <= 30:
        return 0.6
    return 0.4 if diff <= 120 else 0.2


def score_candidate(upload: Upload, candidate: Candidate) -> Scored:
    """Score in [0, 1] and whether every gate passed."""
    _, name_groups = _version_groups(candidate.name)
    parts: dict[str, float] = {"title": title_similarity(upload.title, candidate.name)}
    parts["artists"], remixer_credited = artist_similarity(upload, candidate)
    theirs = mix_info([candidate.mix_name, *name_groups])
    # Uploaders often put the version in the title itself; so does Beatport.
    ours = mix_info(upload.mixes)
    parts["mix"] = mix_similarity(ours, theirs, upload.title, remixer_credited)
    weights = dict(WEIGHTS)
    duration = duration_similarity(upload.duration_ms, candidate.length_ms)
    if duration is None:
        weights.pop("duration")
    else:
        parts["duration"] = duration
    total = sum(weights[k] * parts[k] for k in weights) / sum(weights.values())
    accepted = parts["title"] >= MIN_TITLE and parts["artists"] > 0 and parts["mix"] >= MIN_MIX
    return Scored(candidate, round(total, 4), parts, accepted)


def best_match(upload: Upload, candidates: Sequence[Candidate],
               threshold: float) -> tuple[Scored | None, Scored | None]:
    """(the accepted match or None, the best-scoring candidate whatever its fate).
    Ties go to the search's own ranking."""
    scored = [score_candidate(upload, c) for c in candidates]
    if not scored:
        return None, None
    ranked = sorted(scored, key=lambda s: (-s.score, s.candidate.rank))
    accepted = [s for s in ranked if s.accepted and s.score >= threshold]
    return (accepted[0] if accepted else None), ranked[0]


# -- searches ----------------------------------------------------------------------------

def limit_parentheses(query: str) -> str:
    """Keep at most the first "(" and the first ")" (after it): Beatport
    answers HTTP 403 to a query with more than one pair."""
    out, opened, closed = [], False, False
    for c in query:
        if c == "(":
            if opened:
                continue
            opened = True
        elif c == ")":
            if not opened or closed:
                continue
            closed = True
        out.append(c)
    text = "".join(out)
    if opened and not closed:
        text = text.replace("(", " ")
    return re.sub(r"\s+", " ", text).strip()


def _query_words(text: str) -> str:
    text = clean_text(text)
    text = re.sub(r"[()\[\]{}]", " ", text)
    text = re.sub(r"[^\w'&$.!+-]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def search_queries(upload: Upload) -> list[str]:
    """Searches to try in order: artists + title (+ the remixer), then the
    title and remixer alone (an artist spelled differently on Beatport must
    not hide the track).  Empty when there is nothing to search for."""
    title = _query_words(_FEAT_TAIL.sub("", upload.title))
    if not title:
        return []
    keys = {artist_key(a) for a in upload.artists}
    credit = " ".join(_query_words(r) for r in upload.remixers[:2] if artist_key(r) not in keys)
    artists = " ".join(_query_words(a) for a in upload.artists[:2])
    queries = []
    first = " ".join(p for p in (artists, title, credit) if p)
    queries.append(limit_parentheses(first))
    second = " ".join(p for p in (title, credit) if p)
    if second != first and len(normalise_title(second)) >= 4:
        queries.append(limit_parentheses(second))
    return list(dict.fromkeys(q for q in queries if q))
