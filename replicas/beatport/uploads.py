"""A labelled set of SoundCloud uploads written the way uploaders write them,
generated deterministically from the replica's catalogue.

Each upload knows which Beatport tracks it truly is (``expected``; empty for
uploads that have no Beatport release).  The matcher under test only ever
sees ``title``, ``uploader`` and ``duration_ms``.

Released uploads vary: "ARTIST - Title (Original Mix) [LABEL]", "PREMIERE:",
"[FREE DL]", "OUT NOW", emojis and hashtags, artists swapped / joined with
"&", "x", "," / only the first one, feat. credits on either side, remix
credits with "Extended" dropped, disambiguators dropped ("Vinter (BR)" ->
"Vinter"), accents and punctuation dropped, UPPER or lower case, a typo, no
artist in the title (the uploader is the artist), label channels, durations
off by a second or missing or a shorter cut.
Unreleased ones: new titles by catalogue artists, catalogue titles by other
artists (look-alikes), bootlegs/edits nobody released, titles that extend a
short catalogue title ("Sakura Dreams"), and originals of which only a remix
is on Beatport.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

from replicas.beatport.world import _PHRASES, _WORDS_A, _WORDS_B, UNRELEASED_ARTISTS, Catalogue, Track, _rng

__all__ = ["LabelledUpload", "labelled_uploads", "plain_cut", "plain_mix"]

_PLAIN_CUTS = {"original mix", "extended mix", "extended", "original", "club mix", "extended version",
               "original version", "extended club mix", "radio edit", "feat. joyce sims", ""}
_PREFIXES = ["PREMIERE: ", "Premiere | ", "[PREMIERE] ", "OUT NOW: ", "FREE DL: ", "🔥 ", "EXCLUSIVE PREMIERE: ",
             "Premiere - ", "[OUT NOW] ", "★ "]
_SUFFIXES = [" [FREE DL]", " | FREE DOWNLOAD", " (OUT NOW)", " 🔥🔥", " #techhouse #house", " [OUT NOW]",
             " ✨", " | Out Now on Beatport", " [Free Download]", " 💥"]
_PROMO_CHANNELS = ["Deep House Nation", "Tech House Selection", "Electronic Gems", "House Music HD", "Afro Vibes",
                   "Melodic Universe", "Bass Boutique", "Groove Cartel"]


@dataclass(frozen=True)
class LabelledUpload:
    title: str
    uploader: str
    duration_ms: int | None
    expected: frozenset[int]  # acceptable Beatport track ids; empty = no release
    style: str


def plain_mix(mix: str) -> bool:
    mix = mix.strip().lower()
    return mix in _PLAIN_CUTS or mix.startswith("feat.")


def plain_cut(track: Track) -> bool:
    """The track itself rather than another version of it (a person's view):
    a plain mix name and no remix in the name ("Dame Un Grrr (Provi Remix)")."""
    return plain_mix(track.mix_name) and not re.search(r"\([^)]*(?:Remix|Edit|Rework|Dub|Mix)\)", track.name)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.replace("Ø", "O").replace("ø", "o"))
    return "".join(c for c in text if not unicodedata.combining(c))


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", _fold(text).lower()).split())


def _drop_disambiguator(name: str) -> str:
    return re.sub(r"\s*\((?:[A-Z]{2}|ofc|OZ|UK|BR|BE|FR|DE)\)$", "", name).strip()


def _typo(text: str, rng: random.Random) -> str:
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    if len(text) < 8 or len(letters) < 6:
        return text
    i = rng.choice(letters[1:-1])
    return text[:i] + text[i + 1:] if rng.random() < 0.5 else text[:i] + text[i + 1] + text[i] + text[i + 2:]


def _join(names: list[str], rng: random.Random) -> str:
    if len(names) == 1:
        return names[0]
    style = rng.choice(["comma", "amp", "x", "comma"])
    if style == "x":
        return " x ".join(names)
    if style == "amp":
        return " & ".join(names)
    return ", ".join(names[:-1]) + " & " + names[-1]


def _mix_text(track: Track, rng: random.Random) -> str:
    mix = track.mix_name.strip()
    if mix.upper() == mix and mix:
        mix = mix.title()
    if track.remixers and rng.random() < 0.5:
        mix = re.sub(r"\s*Extended\s*", " ", mix).strip()
        mix = re.sub(r"\s+-\s*$", "", mix)
    if mix.lower() == "extended":
        mix = "Extended Mix"
    return mix


class _Gen:
    def __init__(self, cat: Catalogue, seed: int):
        self.cat = cat
        self.seed = seed
        self.works = cat.works()
        self.by_title: dict[str, list[Track]] = defaultdict(list)
        for t in cat.tracks.values():
            self.by_title[_norm(re.sub(r"\(.*?\)", "", t.name))].append(t)

    def remix_only(self, tracks: list[Track]) -> list[Track]:
        """Versions of songs whose plain cut is not on Beatport."""
        if not hasattr(self, "_remix_only"):
            plain_songs = {(_norm(u.name), a.id) for u in tracks if plain_cut(u) for a in u.artists}
            self._remix_only = [t for t in tracks if not plain_cut(t)
                                and not any((_norm(t.name), a.id) in plain_songs for a in t.artists)]
        return self._remix_only

    def cuts(self, track: Track) -> set[int]:
        """Every plain cut of the track's work (any of them is right for an
        upload that names no version)."""
        return {t.id for t in self.works[track.work] if plain_cut(t)}

    def released(self, i: int) -> LabelledUpload:
        rng = _rng(self.seed, "upload", i)
        tracks = sorted(self.cat.tracks.values(), key=lambda t: t.id)
        t = rng.choice(tracks)
        styles: list[str] = []
        name = t.name.strip()
        artists = [a.name for a in t.artists]
        featured: list[str] = []
        # feat. credit in the name goes where the uploader puts it.
        m = re.search(r"\s*\(?(?:feat\.|with) ([^()]+)\)?", name)
        if m and not name.startswith(m.group(0).strip()):
            name = (name[:m.start()] + name[m.end():]).strip()
            featured = [f.strip() for f in re.split(r"\s*&\s*|,\s*", m.group(1)) if f.strip()]
            artists = [a for a in artists if a not in featured]
            styles.append("feat")
        elif len(artists) >= 2 and rng.random() < 0.15:
            featured, artists = artists[-1:], artists[:-1]
            styles.append("feat")
        artists = artists or [a.name for a in t.artists]
        # Artist spelling and order.
        if rng.random() < 0.7:
            artists = [_drop_disambiguator(a) for a in artists]
        if len(artists) >= 2:
            roll = rng.random()
            if roll < 0.25:
                artists = list(reversed(artists))
                styles.append("swapped")
            elif roll < 0.45:
                artists = artists[:1]
                styles.append("first-artist")
        if rng.random() < 0.12:
            artists = [_fold(a) for a in artists]
            name = _fold(name)
            styles.append("no-accents")
        # Title spelling.
        roll = rng.random()
        if roll < 0.08:
            name = name.upper()
            artists = [a.upper() for a in artists]
            styles.append("upper")
        elif roll < 0.14:
            name, artists = name.lower(), [a.lower() for a in artists]
            styles.append("lower")
        if "&" in name and rng.random() < 0.5:
            name = name.replace("&", "and")
        if rng.random() < 0.2 and re.search(r"[,.'!]", name):
            name = re.sub(r"[,.'!]", "", name)
            styles.append("no-punctuation")
        if rng.random() < 0.05:
            name = _typo(name, rng)
            styles.append("typo")
        if re.search(r"\((?!.*(?:Remix|Mix|Edit))[^)]*\)", name) and rng.random() < 0.3:
            name = re.sub(r"\s*\([^)]*\)", "", name).strip()
            styles.append("subtitle-dropped")
        # Version.
        expected = {t.id}
        mix = ""
        if not plain_mix(t.mix_name) or (t.mix_name and not t.mix_name.startswith("feat.") and rng.random() < 0.5):
            mix = _mix_text(t, rng)
            styles.append("mix")
        elif plain_cut(t):
            expected = self.cuts(t)
        feat_text = ""
        if featured:
            word = rng.choice(["feat.", "ft.", "feat.", "featuring"])
            feat_text = f"{word} {_join(featured, rng)}"
        title_core = name
        if mix:
            title_core += f" ({mix})" if rng.random() < 0.85 else f" [{mix}]"
        # Who uploads, and whether the title names the artist.
        roll = rng.random()
        if roll < 0.12 and not featured:
            uploader = rng.choice([artists[0], f"{artists[0]} Music", f"{artists[0]} (Official)",
                                   artists[0].upper()])
            title = title_core
            styles.append("uploader-is-artist")
        else:
            credit = _join(artists, rng)
            if feat_text and rng.random() < 0.5:
                text = f"{credit} {feat_text} - {title_core}"
            elif feat_text:
                text = f"{credit} - {name} ({feat_text})" + (f" ({mix})" if mix else "")
            else:
                text = f"{credit} - {title_core}"
            if rng.random() < 0.15:
                text = text.replace(" - ", rng.choice([" – ", " — "]), 1)
            title = text
            if roll < 0.25:
                uploader = t.release.label.name
                styles.append("label-channel")
            elif roll < 0.35:
                uploader = rng.choice(_PROMO_CHANNELS)
                styles.append("promo-channel")
            else:
                uploader = rng.choice([a.name for a in t.artists])
        # Decorations.
        if rng.random() < 0.3:
            title = rng.choice(_PREFIXES) + title
            styles.append("prefix")
        if rng.random() < 0.25:
            title += f" [{t.release.label.name.upper() if rng.random() < 0.5 else t.release.label.name}]"
            styles.append("label-tag")
        if rng.random() < 0.25:
            title += rng.choice(_SUFFIXES)
            styles.append("suffix")
        duration = self._duration(t, rng, styles)
        return LabelledUpload(title, uploader, duration, frozenset(expected), "+".join(styles) or "plain")

    @staticmethod
    def _duration(t: Track, rng: random.Random, styles: list[str]) -> int | None:
        roll = rng.random()
        if roll < 0.12:
            styles.append("no-duration")
            return None
        if roll < 0.2:
            styles.append("short-cut")
            return int(t.length_ms * rng.uniform(0.6, 0.85))
        return t.length_ms + rng.randrange(-1500, 1500)

    def unreleased(self, i: int, kind: str) -> LabelledUpload:
        rng = _rng(self.seed, "unreleased", kind, i)
        tracks = sorted(self.cat.tracks.values(), key=lambda t: t.id)
        duration = rng.randrange(180, 420) * 1000 if rng.random() < 0.9 else None
        if kind == "new-title":
            t = rng.choice(tracks)
            while True:
                title = rng.choice([f"{rng.choice(_WORDS_A)} {rng.choice(_WORDS_B)}",
                                    f"{rng.choice(_PHRASES)} {rng.choice(_WORDS_B)}", "ID", "Untitled"])
                if _norm(title) not in self.by_title:
                    break
            artist = _drop_disambiguator(t.artists[0].name)
            text = f"{artist} - {title}"
            if rng.random() < 0.3:
                text = rng.choice(_PREFIXES) + text
            return LabelledUpload(text, artist, duration, frozenset(), kind)
        if kind == "look-alike":
            t = rng.choice(tracks)
            other = rng.choice(UNRELEASED_ARTISTS)
            # Another song with the same title (not the original's guests).
            name = re.sub(r"\s*\(?(?:feat\.|with) [^()]+\)?", "", t.name).strip()
            text = f"{other} - {name}"
            if rng.random() < 0.3:
                text += rng.choice(_SUFFIXES)
            return LabelledUpload(text, other, t.length_ms + rng.randrange(-20000, 20000), frozenset(), kind)
        if kind == "bootleg":
            t = rng.choice([t for t in tracks if plain_cut(t)])
            dj = rng.choice(UNRELEASED_ARTISTS)
            version = rng.choice(["Bootleg", "Remix", "Edit", "Flip", "VIP Edit", "Rework"])
            artists = _join([_drop_disambiguator(a.name) for a in t.artists][:2], rng)
            text = f"{artists} - {t.name.strip()} ({dj} {version})"
            if rng.random() < 0.4:
                text += " [FREE DL]"
            return LabelledUpload(text, dj, duration, frozenset(), kind)
        if kind == "longer-title":
            short = [t for t in tracks if len(t.name.split()) <= 2 and plain_cut(t)]
            t = rng.choice(short)
            while True:
                title = f"{t.name.strip()} {rng.choice([*_WORDS_B, 'Pt. 2', 'II', 'Reprise Of Love'])}"
                if _norm(title) not in self.by_title:
                    break
            artist = _drop_disambiguator(t.artists[0].name)
            return LabelledUpload(f"{artist} - {title}", artist, duration, frozenset(), kind)
        if kind == "only-remix-released":
            t = rng.choice(self.remix_only(tracks))
            name = re.sub(r"\s*\([^)]*(?:Remix|Mix|Edit)[^)]*\)", "", t.name).strip()
            text = f"{_join([_drop_disambiguator(a.name) for a in t.artists], rng)} - {name}"
            return LabelledUpload(text, t.artists[0].name, duration, frozenset(), kind)
        raise ValueError(kind)


def labelled_uploads(cat: Catalogue, released: int = 270, seed: int = 11) -> list[LabelledUpload]:
    """``released`` uploads with a Beatport release and 90 without (25 new
    titles, 25 look-alikes, 20 bootlegs, 10 longer titles, 10 originals of
    which only a remix is released), in a fixed shuffled order."""
    gen = _Gen(cat, seed)
    uploads = [gen.released(i) for i in range(released)]
    for kind, count in (("new-title", 25), ("look-alike", 25), ("bootleg", 20), ("longer-title", 10),
                        ("only-remix-released", 10)):
        uploads += [gen.unreleased(i, kind) for i in range(count)]
    _rng(seed, "order").shuffle(uploads)
    return uploads
