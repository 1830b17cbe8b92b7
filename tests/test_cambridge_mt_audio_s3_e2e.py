"""``soundscraping cmt-postprocess`` with ``--files-store s3://…`` (moto in
server mode, reached through AWS_ENDPOINT_URL as a real deployment reaches
its S3): the multitrack ZIP is streamed to a temporary file and read stem by
stem, the mixes are read from the bucket, and nothing is left behind in the
temporary folder.  One short song: the local-store test
(test_cambridge_mt_audio_e2e.py) checks the analysis itself at length."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("essentia", reason="the audio extra is not installed")

from replicas.audio.multitrack import STEMS, build_multitrack
from tests.conftest import S3
from tests.crawl import REPO, query
from tests.test_cambridge_mt_audio_e2e import Store

PREFIX = "media/"


def test_postprocess_reads_multitracks_and_mixes_from_s3(tmp_path: Path, s3: S3) -> None:
    staging = tmp_path / "staging"
    database = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    store = Store(staging, database)  # rows and files as the crawl leaves them; the files then go to the bucket
    song = build_multitrack("Band S3", "Cloud Song", 8.0, seed=31)
    store.song(song, 1, song.zip_bytes(compress=True), song.mix_mp3(-1500.0, -2.0, seed=1))
    mix_url = store.mix(1, 1, song.mix_mp3(2500.0, -6.0, seed=2))
    lost = build_multitrack("Band S3", "Lost Song", 3.0, seed=32)  # listed in media_files, never uploaded
    store.song(lost, 2, lost.zip_bytes(), None)
    lost_key = store.rows["media_files"][-1][1]
    store.commit()
    for path in staging.rglob("*"):
        if path.is_file() and path.relative_to(staging).as_posix() != lost_key:
            s3.client.upload_file(str(path), s3.bucket, PREFIX + path.relative_to(staging).as_posix())
            path.unlink()  # only the bucket has them now
    temp = tmp_path / "tmp"
    temp.mkdir()

    run = subprocess.run([sys.executable, "-m", "soundscraping", "cmt-postprocess", "--database-url", database,
                          "--files-store", f"s3://{s3.bucket}/{PREFIX}", "--unplaced", str(tmp_path / "unplaced.txt")],
                         cwd=REPO, env={**os.environ, **s3.env, "TMPDIR": str(temp)}, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 1, run.stderr[-3000:]  # a file was missing: said by the exit code
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert f"Band S3 - Cloud Song: {len(STEMS)} stems, 2 mixes aligned, 0 flagged, 0 files skipped" \
        in run.stderr, run.stderr[-3000:]
    assert f"Band S3 - Lost Song: skipped multitrack https://cambridge-mt.example/{lost.folder}_Full.zip: not in " \
           "the store" in run.stderr, run.stderr[-3000:]
    stems = query(database, "SELECT file_name, instrument_group FROM cmt_stems")
    assert sorted(stems) == sorted((name, group) for name, group, _ in STEMS.values())
    offsets = dict(query(database, "SELECT mix_url, offset_ms FROM cmt_mix_alignment WHERE aligned"))
    assert abs(offsets[mix_url] - 2500.0) <= 5.0
    assert abs(offsets[f"https://cambridge-mt.example/{song.folder}_Preview.mp3"] + 1500.0) <= 5.0
    assert list(temp.iterdir()) == []  # the ZIP's temporary download is deleted
