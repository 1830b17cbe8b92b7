"""Instrument group of a multitrack stem, from its file name.

Real names (the Cambridge-MT library) look like ``07_BackingVox1DT.wav``,
``ElecGtr01Mic2``, ``SnareRimOD_Overheads``, ``Drums-Kick In-M82.wav``,
``GTR 1 TF29.wav``, ``VOX LD-251E-1084.wav``.  A name is cleaned into
lower-case words (extension and track number dropped, camelCase, letters and
digits and separators split: ``BackingVox1DT`` -> ``backing vox 1 dt``),
then the RULES below are tried in order and the first group whose pattern
matches a whole-word phrase wins.  Names no rule places are ``other``.

The order is the design (why each rule sits where it does):

1. reversed sounds are fx whatever they are made of (``ReverseCymbal``);
2. vocals, backing before lead (``LeadVoxHarm`` is a harmony), and before
   every instrument: in ``Category-Source-Mic`` names the category decides
   (``Vocals-Acoustic Guitar-Proto``), and ``VoxGuitar`` is a vocal;
3. kit pieces before kit mics: a snare sound taken from the overheads
   (``SnareRimOD_Overheads``) is a snare; kick before bass (``BassDrum``);
4. brass and wind before bass (``BassTrombone``), bass before synth
   (``BassSynth``) and guitar (``BassGtr``), synth before keys (``Keys-Moog``);
5. fx words after the instruments (``Snare3SFX`` is a snare);
   choir parts (``Alto``, ``Tenor``) after brass and wind (``SaxAlto``);
6. room mics after the instruments (``ElecGtr1Room`` is a guitar), then a
   whole kit or loop on one stem (``drums``).

Measured on tests/fixtures/cambridge_mt (see scripts/eval_stem_names.py and
the README)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import PurePosixPath, PureWindowsPath

GROUPS = ("kick", "snare", "toms", "hihat", "cymbals", "overheads", "room", "drums", "percussion", "bass", "guitar",
          "keys", "synth", "strings", "brass_wind", "lead_vocal", "backing_vocal", "fx", "other")

# (group, whole-word phrases in cleaned names); first match wins.  Data, not code.
RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("fx", ("reverse", "reversed", "rev cymbal", "rev snare", "rev crash", "backwards")),
    ("backing_vocal", ("backing", "backing vox", "bv", "bvs", "bvox", "bgv", "bgvs", "backup", "backups", "harm",
                       "harms", "harmony", "harmonies", "choir", "choirs", "chorus vox", "group vocal", "group vocals",
                       "group vox", "gang vox", "gang vocals", "mob", "crowd vox", "ad lib", "ad libs", "adlib",
                       "adlibs", "whisper", "whispers", "ooh", "oohs", "aah", "aahs", "chant", "chants", "dbl vox",
                       "double vox", "gangs", "beatbox")),
    ("lead_vocal", ("lead vox", "lead vocal", "lead vocals", "leadvox", "ld vox", "vox ld", "vox", "vocal", "vocals",
                    "voc", "vocs", "voice", "singer", "lyrical", "rap", "rapper", "spoken", "narration", "lv",
                    "lead double", "speech")),
    ("kick", ("kick", "kik", "kck", "bass drum", "bassdrum", "bd", "kickdrum")),
    ("snare", ("snare", "snares", "snr", "sn", "sidestick", "side stick", "cross stick", "rimshot", "rim")),
    ("toms", ("tom", "toms", "rack tom", "floor tom", "hi tom", "lo tom", "rototom", "rototoms")),
    ("hihat", ("hi hat", "hi hats", "hihat", "hihats", "hh", "hat", "hats")),
    ("cymbals", ("cymbal", "cymbals", "cym", "crash", "ride", "splash", "china")),
    ("overheads", ("overhead", "overheads", "oh", "ohs", "over head", "over heads")),
    ("percussion", ("perc", "percs", "percussion", "shaker", "shakers", "tamb", "tambourine", "tambo", "conga",
                    "congas", "bongo", "bongos", "cowbell", "clap", "claps", "handclap", "handclaps", "hand clap",
                    "hand claps", "snap", "snaps", "taiko", "djembe", "cajon", "timbale", "timbales", "triangle",
                    "guiro", "cabasa", "maracas", "agogo", "woodblock", "dun dun", "tabla", "gong", "vibes",
                    "vibraphone", "xylophone", "marimba", "glockenspiel", "glock", "kalimba", "bell", "bells", "chime",
                    "chimes", "steel pan", "steel pans", "timpani", "castanets", "udu", "darbuka", "bombo", "daiko",
                    "sleighbells", "sleigh bells", "vibraslap", "vibra slap", "clave", "claves", "timp", "pandeiro",
                    "pandero", "rainstick", "shekere", "tamborine", "stomp", "stomps", "guache", "guasa", "llamador",
                    "cunono", "paliteo", "tambora", "anvil", "sticks", "finger clicks", "idiophone", "vibrophone",
                    "music box")),
    ("brass_wind", ("sax", "saxes", "saxophone", "trumpet", "trumpets", "tpt", "trombone", "trombones", "tbn", "horn",
                    "horns", "brass", "flute", "flutes", "clarinet", "clarinets", "oboe", "bassoon", "tuba",
                    "euphonium", "euphoniums", "euphoniiums", "flugelhorn", "flugel", "cornet", "harmonica", "recorder",
                    "piccolo", "whistle", "bagpipe", "bagpipes", "sousaphone", "woodwind", "woodwinds", "bari sax",
                    "alto sax", "tenor sax", "oboes", "bassoons", "tubas", "cimbassi", "cimbasso", "flugelhorns",
                    "saxophones", "didgeridoo", "recordier")),
    # Choir parts after the instruments that share their names (SaxAlto, TenorSax).
    ("backing_vocal", ("soprano", "sopranos", "alto", "altos", "tenor", "tenors", "baritone voice")),
    ("strings", ("string", "strings", "violin", "violins", "viola", "violas", "cello", "cellos", "celli", "fiddle",
                 "fiddles", "vln", "vla", "vlc", "harp", "quartet", "orchestra", "orch", "pizz", "pizzicato", "arco",
                 "doublebasses", "srtings", "spiccato", "tremolo strings")),
    ("bass", ("bass", "basses", "sub bass", "subbass", "upright", "double bass", "contrabass", "bass pedal",
              "bass pedals", "bassline")),
    ("synth", ("synth", "synths", "synthesizer", "moog", "minimoog", "pad", "pads", "arp", "arps", "arpeggio", "juno",
               "prophet", "korg", "sequencer", "seq", "pluck", "plucks", "drone", "theremin", "lead synth",
               "synth lead", "303", "stylophone", "vocoder")),
    ("keys", ("piano", "pianos", "pno", "keys", "key", "keyboard", "keyboards", "organ", "organs", "hammond", "b3",
              "leslie", "rhodes", "wurli", "wurlitzer", "epiano", "e piano", "electric piano", "clav", "clavinet",
              "mellotron", "harpsichord", "celeste", "celesta", "accordion", "harmonium", "melodica", "accordian",
              "farfisa", "nord", "nord electro", "yamaha cp")),
    ("guitar", ("gtr", "gtrs", "guitar", "guitars", "elec gtr", "acoustic", "acgtr", "banjo", "mandolin", "mandolins",
                "ukulele", "ukelele", "uke", "dulcimer", "lap steel", "pedal steel", "steel gtr", "dobro", "sitar",
                "bouzouki", "nylon", "strat", "tele", "gtt", "gutiar", "guitalele", "autoharp", "psaltery",
                "dulcimers")),
    ("fx", ("sfx", "fx", "effect", "effects", "noise", "noises", "sweep", "sweeps", "riser", "risers", "uplifter",
            "downlifter", "impact", "impacts", "hit", "hits", "whoosh", "swoosh", "door", "foley", "atmos",
            "atmosphere", "crowd", "applause", "rain", "radio", "vinyl", "crackle", "scratch", "scratches", "turntable",
            "turntables", "sub drop", "tape stop", "glitch", "boom", "telephone", "traffic", "alarm", "footsteps",
            "gunshot", "storm", "lightning", "heartbeat", "drip", "knocking", "bulldozer", "tape hiss", "beep", "flock",
            "voicemail", "decks", "toy car", "toy helicopter")),
    ("room", ("room", "rooms", "amb", "ambience", "ambient", "squash", "crush", "main pair", "mainpair", "spaced pair",
              "stereo pair", "decca", "far mic", "far mics", "pair", "xy pair", "hall pair", "outrigger pair",
              "blumlein", "chamber", "main mics", "hall")),
    ("drums", ("drum", "drums", "drumkit", "drum kit", "kit", "break", "breaks", "breakbeat", "loop", "loops", "beat",
               "beats", "drummachine", "drum machine", "groove", "fill", "fills", "808", "909", "kicksnare",
               "brushes")),
)

_TRACK_NUMBER = re.compile(r"^\s*\d{1,3}\s*[_\-. ]\s*")
_CAMEL = (re.compile(r"([a-z])([A-Z])"), re.compile(r"([A-Z]+)([A-Z][a-z])"), re.compile(r"([A-Za-z])(\d)"),
          re.compile(r"(\d)([A-Za-z])"))
_NON_WORD = re.compile(r"[^a-z0-9]+")


def clean_name(file_name: str) -> str:
    """``07_BackingVox1DT.wav`` -> ``backing vox 1 dt``: the base name (no
    folders, no audio extension, no leading track number), camelCase and
    letters/digits split, separators to single spaces, lower case."""
    base = PureWindowsPath(PurePosixPath(file_name).name).name
    stem, dot, ext = base.rpartition(".")
    if dot and ext.lower() in ("wav", "aif", "aiff", "flac", "mp3", "ogg", "bwf", "m4a", "caf"):
        base = stem
    base = _TRACK_NUMBER.sub("", base, count=1)
    for pattern in _CAMEL:
        base = pattern.sub(r"\1 \2", base)
    return _NON_WORD.sub(" ", base.lower()).strip()


@cache
def _compiled() -> tuple[tuple[str, re.Pattern[str]], ...]:
    out = []
    for group, phrases in RULES:
        if group not in GROUPS:
            raise ValueError(f"rule for unknown group {group!r}")
        alternatives = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
        out.append((group, re.compile(rf"(?:^| )(?:{alternatives})(?= |$)")))
    return tuple(out)


def instrument_group(file_name: str) -> str:
    """The instrument group of a stem file name (one of GROUPS; ``other``
    when no rule places it)."""
    cleaned = clean_name(file_name)
    for group, pattern in _compiled():
        if pattern.search(cleaned):
            return group
    return "other"


def unplaced(names: Iterable[str]) -> list[str]:
    """The distinct names no rule places (``other``), sorted."""
    return sorted({n for n in names if n.strip() and instrument_group(n) == "other"})
