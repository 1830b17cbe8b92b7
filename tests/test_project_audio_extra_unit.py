"""The audio commands without the audio extra: one line naming the extra,
exit 2, nothing written; the crawler's modules never import the audio stack."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.crawl import REPO

HEAVY = ("essentia", "soundfile", "lameenc")


@pytest.mark.parametrize(("command", "blocked_modules"), [
    ("audio-features", ("essentia", "soundfile")),
    ("cmt-postprocess", ("essentia", "soundfile")),
    ("audio-report", ("matplotlib",)),
])
def test_missing_audio_extra_is_one_line_and_exit_2(tmp_path: Path, command: str,
                                                    blocked_modules: tuple[str, ...]) -> None:
    blocked = tmp_path / "blocked"
    for name in blocked_modules:
        (blocked / name).mkdir(parents=True)
        (blocked / name / "__init__.py").write_text(f'raise ImportError("No module named {name}")\n')
    env = {**os.environ, "PYTHONPATH": f"{blocked}{os.pathsep}{REPO}"}
    database = tmp_path / "db.sqlite3"
    run = subprocess.run([sys.executable, "-m", "soundscraping", command, "--database-url", f"sqlite:///{database}"],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 2, run.stderr
    lines = [line for line in run.stderr.splitlines() if "error" in line]
    assert len(lines) == 1 and "'audio' extra" in lines[0] and "Traceback" not in run.stderr, run.stderr
    assert f"({', '.join(blocked_modules)} not installed)" in lines[0]  # names what is missing
    assert not database.exists()  # refused before the database is opened


def test_crawler_modules_do_not_import_the_audio_stack() -> None:
    code = ("import sys, soundscraping.pipelines, soundscraping.media.files, soundscraping.media.streaming, "
            "soundscraping.spiders.beatport_tracks, soundscraping.spiders.cambridge_mt, soundscraping.__main__, "
            "soundscraping.audio.cli; "
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
