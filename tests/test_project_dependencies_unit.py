"""Packaging: every package the code imports is declared in pyproject.toml (the
crawler's in [project] dependencies, so a crawler-only install can crawl), the
map stack stays in the ``map`` extra, the comment-analysis stack in the
``analysis`` extra, the audio stack in the ``audio`` extra and pyarrow in the
``export`` extra (none imported by the crawler), and the locks pin exactly
what it declares."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

from soundscraping.__main__ import ANALYSIS_MODULES, AUDIO_MODULES, MAP_MODULES

REPO = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
LOCAL = {"soundscraping", "replicas", "tests", "scripts"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def names(requirements: list[str]) -> set[str]:
    return {canonical(re.match(r"[A-Za-z0-9._-]+", r).group()) for r in requirements}


CRAWLER = names(PROJECT["dependencies"])
MAP = names(PROJECT["optional-dependencies"]["map"])
ANALYSIS = names(PROJECT["optional-dependencies"]["analysis"])
AUDIO = names(PROJECT["optional-dependencies"]["audio"])
EXPORT = names(PROJECT["optional-dependencies"]["export"])
DEV = names(PROJECT["optional-dependencies"]["dev"])


@cache  # parsed once for the tests that read it (callers only read the result)
def imported_modules(folder: str) -> dict[str, set[str]]:
    """Top-level third-party modules imported by the .py files under ``folder``
    (lazy imports inside functions included) -> the files that import them."""
    found: dict[str, set[str]] = {}
    for path in (REPO / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top not in sys.stdlib_module_names and top not in LOCAL and top != "__future__":
                    found.setdefault(top, set()).add(str(path.relative_to(REPO)))
    return found


@cache
def installed() -> dict[str, list[str]]:
    """Top-level module -> distributions (one scan of site-packages: it is slow)."""
    return packages_distributions()


def distributions(module: str) -> set[str]:
    return {canonical(d) for d in installed().get(module, [])}


MAP_PACKAGE = "soundscraping/community_map/"


def outside_the_map(files: set[str]) -> set[str]:
    return {f for f in files if not f.startswith(MAP_PACKAGE)}


def analysis_files(files: set[str]) -> set[str]:
    return {f for f in files if f.startswith("soundscraping/analysis/")}


def audio_files(files: set[str]) -> set[str]:
    return {f for f in files if f.startswith("soundscraping/audio/")}


def export_files(files: set[str]) -> set[str]:
    return {f for f in files if f.startswith("soundscraping/export/")}


def command_files(files: set[str]) -> set[str]:
    """The files of the commands whose stacks are extras (map, analysis, audio, export)."""
    return (files - outside_the_map(files)) | analysis_files(files) | audio_files(files) | export_files(files)


def test_every_crawler_import_is_a_runtime_dependency() -> None:
    undeclared = {module: sorted(files) for module, files in imported_modules("soundscraping").items()
                  if files - command_files(files) and not distributions(module) & CRAWLER}
    assert undeclared == {}, "imported by the crawler but not in [project] dependencies"


def test_the_map_stack_is_imported_only_by_the_map_the_analysis_and_the_audio() -> None:
    # `soundscraping moments` draws with numpy/scipy/matplotlib/plotly too; the audio commands
    # compute with numpy/scipy and audio-report draws with matplotlib.
    for module, files in imported_modules("soundscraping").items():
        if distributions(module) & MAP:
            assert files - command_files(files) == set(), (module, files)


def test_the_analysis_stack_is_imported_only_by_the_analysis() -> None:
    importers = {module: files for module, files in imported_modules("soundscraping").items()
                 if distributions(module) & ANALYSIS}
    assert set(importers) == set(ANALYSIS_MODULES)
    for module, files in importers.items():
        assert files == analysis_files(files), (module, files)


def test_the_audio_stack_is_imported_only_by_the_audio() -> None:
    importers = {module: files for module, files in imported_modules("soundscraping").items()
                 if distributions(module) & (AUDIO - MAP)}
    assert set(importers) == {"essentia", "soundfile"}
    for module, files in importers.items():
        assert files == audio_files(files), (module, files)


def test_the_export_stack_is_imported_only_by_the_export() -> None:
    importers = {module: files for module, files in imported_modules("soundscraping").items()
                 if distributions(module) & EXPORT}
    assert set(importers) == {"pyarrow"}
    for module, files in importers.items():
        assert files == export_files(files), (module, files)


def test_export_command_without_the_extra_says_what_to_install(tmp_path: Path) -> None:
    result = run_without(["pyarrow"], ["export", "--database-url", "sqlite:///nowhere.db", "--out", str(tmp_path)])
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "soundscraping export: error: it needs the 'export' extra (pyarrow): pip install -e '.[export]' in the "
        "checkout, or `make install`"]


def test_every_audio_import_is_declared() -> None:
    undeclared = {module: sorted(files) for module, files in imported_modules("soundscraping/audio").items()
                  if not distributions(module) & (CRAWLER | AUDIO)}
    assert undeclared == {}


def test_every_analysis_import_is_declared() -> None:
    declared = CRAWLER | MAP | ANALYSIS
    undeclared = {module: sorted(files) for module, files in imported_modules("soundscraping/analysis").items()
                  if not distributions(module) & declared}
    assert undeclared == {}


def test_every_import_of_tests_and_scripts_is_declared() -> None:
    declared = CRAWLER | MAP | ANALYSIS | AUDIO | EXPORT | DEV
    found = {**imported_modules("tests"), **imported_modules("scripts")}
    undeclared = {module: sorted(files) for module, files in found.items() if not distributions(module) & declared}
    assert undeclared == {}


def test_the_replicas_need_only_dev_dependencies() -> None:
    """The replicas are test tooling: what they import is in the dev extra
    (the audio replica synthesises previews and stems with the audio extra)."""
    found = imported_modules("replicas")
    assert found, "replicas/ imports no third-party package?"

    def allowed(files: set[str]) -> set[str]:
        audio_only = all(f.startswith("replicas/audio/") for f in files)
        return DEV | AUDIO if audio_only else DEV

    undeclared = {module: sorted(files) for module, files in found.items()
                  if not distributions(module) & allowed(files)}
    assert undeclared == {}


def test_the_replicas_never_import_the_product() -> None:
    """A replica that borrowed the spider's code (a codec, a parser) would
    cancel that code's bugs out of the tests: replicas/ stands alone."""
    borrowed = sorted(str(path.relative_to(REPO)) for path in (REPO / "replicas").rglob("*.py")
                      if re.search(r"^\s*(from|import)\s+soundscraping\b", path.read_text(encoding="utf-8"), re.M))
    assert borrowed == []


def test_map_modules_are_the_map_extra() -> None:
    assert set().union(*(distributions(m) for m in MAP_MODULES)) == MAP


def test_analysis_modules_are_the_analysis_extra() -> None:
    assert set().union(*(distributions(m) for m in ANALYSIS_MODULES)) == ANALYSIS


def test_audio_modules_are_the_audio_extra() -> None:
    assert set().union(*(distributions(m) for m in AUDIO_MODULES)) == AUDIO


def run_without(modules: list[str], argv: list[str]) -> subprocess.CompletedProcess[str]:
    """``soundscraping <argv>`` with ``modules`` unimportable, as on a host without their extra
    (sys.modules[name] = None makes a module unimportable)."""
    hidden = " = ".join(f"sys.modules[{m!r}]" for m in modules)
    code = f"import sys; {hidden} = None\nfrom soundscraping.__main__ import main\nsys.exit(main({argv!r}))"
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)


def test_map_command_without_the_extra_says_what_to_install() -> None:
    result = run_without(["scipy", "sklearn"], ["map", "--database-url", "sqlite:///nowhere.db"])
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "soundscraping map: error: the map needs the 'map' extra (scipy, sklearn not installed): "
        "pip install -e '.[map]' in the checkout, or `make install`"]


def test_sentiment_command_without_the_extra_says_what_to_install() -> None:
    result = run_without(["lingua"], ["sentiment", "--database-url", "sqlite:///nowhere.db"])
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "soundscraping sentiment: error: it needs the 'analysis' extra (vaderSentiment, lingua-language-detector): "
        "pip install -e '.[analysis]' in the checkout, or `make install` (lingua not installed)"]


def test_audio_commands_without_the_extra_say_what_to_install() -> None:
    for command, hidden in (("audio-features", ["essentia"]), ("cmt-postprocess", ["essentia", "scipy"]),
                            ("audio-report", ["matplotlib"])):
        result = run_without(hidden, [command, "--database-url", "sqlite:///nowhere.db"])
        assert result.returncode == 2, (command, result.stderr)
        assert result.stderr.splitlines() == [
            f"soundscraping {command}: error: soundscraping {command} needs the 'audio' extra (essentia, soundfile; "
            "audio-report also matplotlib): pip install -e '.[audio]' in the checkout, or `make install` "
            f"({', '.join(hidden)} not installed)"], command


def pulled_in_by(lock: str, name: str) -> list[str]:
    """What a lock's ``# via`` annotation names for one pin."""
    text = (REPO / lock).read_text(encoding="utf-8")
    block = next(b for b in re.split(r"\n(?=[A-Za-z0-9])", text) if canonical(b.split("==")[0]) == name)
    via = block.split("# via", 1)[1] if "# via" in block else ""
    return [line.strip(" #") for line in via.splitlines() if line.strip(" #")]


def locked(lock: str) -> dict[str, str]:
    """name -> version of every pin in a lock file; each pin carries hashes."""
    text = (REPO / lock).read_text(encoding="utf-8")
    pins = dict(re.findall(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", text, flags=re.M))
    assert len(pins) == len(re.findall(r"^[A-Za-z0-9]", text, flags=re.M)), "a lock line that is not a pin"
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text)[1:]  # one per pin, the header comment before them
    assert len(blocks) == len(pins) and all("--hash=sha256:" in block for block in blocks), lock
    return {canonical(name): version for name, version in pins.items()}


def test_locks_pin_everything_declared_with_one_version() -> None:
    crawler, everything = locked("requirements.txt"), locked("requirements-dev.txt")
    assert CRAWLER <= crawler.keys() and CRAWLER | MAP | ANALYSIS | AUDIO | DEV <= everything.keys()
    # A package an extra declares may sit in the crawler lock only when a crawler
    # package pulls it in (cryptography comes with Scrapy's pyOpenSSL, lxml with Scrapy).
    leaked = {name for name in (MAP | ANALYSIS | AUDIO | DEV) - CRAWLER & crawler.keys()
              if not set(pulled_in_by("requirements.txt", name)) - {"-c requirements-dev.txt"}}
    assert not leaked, f"the crawler lock holds the map, analysis or audio stack or dev tooling: {sorted(leaked)}"
    assert {name: v for name, v in crawler.items() if everything.get(name) != v} == {}


def test_locks_name_no_index() -> None:
    for lock in ("requirements.txt", "requirements-dev.txt"):
        text = (REPO / lock).read_text(encoding="utf-8")
        assert not re.search(r"--(extra-)?index-url|--find-links|file://", text), lock
