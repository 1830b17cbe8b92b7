"""``soundscraping export`` on a small SQLite dataset written through the
project's writer: CSV and JSON lines read back equal to the rows (list
columns, booleans, dates, UTC timestamps), the interaction graph read by
networkx with the weights per kind, ``--since`` by crawl run, user mistakes
in one line with exit 2; and the settings a crawl run records hide secrets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import networkx as nx
import pyarrow.csv as pacsv
import pytest
from scrapy.settings import Settings

from soundscraping.__main__ import main
from soundscraping.provenance import MASK, recorded_settings
from soundscraping.storage import TABLES, Database, interaction_weights

RUN_OLD, RUN_NEW = 1_700_000_000_000_000, 1_760_000_000_000_000
BEATPORT = [
    (5, 123, "https://www.beatport.com/track/x/5", "Tesla", "Extended Mix", 126, "A Minor", "8A", "Tech House",
     None, "2024-02-03", "Label", "CAT1", "ISRC1", ["Mau P", "Guest, Jr."], [], 300000, None, None, 0.93,
     "2026-01-01T10:00:00Z", None, None, None, RUN_NEW),
    (6, None, "https://www.beatport.com/track/y/6", "Name \"quoted\"", None, None, None, None, None, None, None,
     None, None, None, ["Solo"], ["Remixer"], None, None, None, None, "2026-01-02T10:00:00Z", None, None, None,
     RUN_OLD),
]
INTERACTIONS = [(1, "like", 2, 10, "2025-01-01T00:00:00Z", RUN_NEW), (1, "repost", 2, 10, None, RUN_NEW),
                (1, "comment", 2, 11, None, RUN_NEW), (1, "follow", 2, None, None, RUN_NEW),
                (2, "like", 1, 20, None, RUN_NEW), (3, "like", 1, 21, None, RUN_OLD)]


@pytest.fixture
def dataset(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/data.sqlite3"
    db = Database.from_url(url)
    db.connect()
    db.ensure_schema()
    users = [(1, "one", "One & <Only>", *[None] * 4, 50, 1, 1, None, None, True, "2020-01-01T00:00:00Z", True,
              "2026-01-01T00:00:00Z", None, RUN_NEW)]
    runs = [(RUN_OLD, "beatport_tracks", None, "{}", "{}", "0.1.0", None, "2025-01-01T00:00:00Z",
             "2025-01-01T01:00:00Z", "finished", "{}"),
            (RUN_NEW, "soundcloud_graph", None, "{}", "{}", "0.1.0", None, "2026-01-01T00:00:00Z",
             "2026-01-01T01:00:00Z", "finished", "{}")]
    db.write({"beatport_tracks": BEATPORT, "soundcloud_interactions": INTERACTIONS, "soundcloud_users": users,
              "crawl_runs": runs})
    db.close()
    return url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["export", *argv])
    return code, capsys.readouterr().err


def test_csv_and_jsonl_read_back_as_the_rows(dataset: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                             ) -> None:
    names = [c.name for c in TABLES["beatport_tracks"].columns]
    for fmt in ("csv", "jsonl"):
        code, err = run(capsys, "--database-url", dataset, "--out", str(tmp_path / fmt), "--format", fmt,
                        "--tables", "beatport_tracks")
        assert code == 0, err
    lines = (tmp_path / "jsonl" / "beatport_tracks.jsonl").read_text(encoding="utf-8").splitlines()
    as_json = [json.loads(line) for line in lines]
    assert [[r[n] for n in names] for r in as_json] == [list(row) for row in BEATPORT]
    csv = pacsv.read_csv(tmp_path / "csv" / "beatport_tracks.csv",
                         convert_options=pacsv.ConvertOptions(strings_can_be_null=True)).to_pylist()
    assert [r["name"] for r in csv] == ["Tesla", 'Name "quoted"']
    assert [json.loads(r["artists"]) for r in csv] == [["Mau P", "Guest, Jr."], ["Solo"]]
    assert [r["scraped_at"].isoformat() for r in csv] == ["2026-01-01T10:00:00+00:00", "2026-01-02T10:00:00+00:00"]
    assert ',"2026-01-01T10:00:00Z",' in (tmp_path / "csv" / "beatport_tracks.csv").read_text(), "the dataset's format"
    assert csv[0]["publish_date"].isoformat() == "2024-02-03" and csv[1]["bpm"] is None
    card = json.loads((tmp_path / "csv" / "datacard.json").read_text())
    assert set(card["tables"]) == {"beatport_tracks"} and card["tables"]["beatport_tracks"]["rows"] == 2
    assert [r["id"] for r in card["crawl_runs"]] == [RUN_OLD, RUN_NEW]


def graph_edges(graph: Any) -> dict[tuple[int, int], dict[str, Any]]:
    return {(int(s), int(t)): data for s, t, data in graph.edges(data=True)}


def test_the_graph_reads_into_networkx_with_weights_per_kind(dataset: str, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    weights = interaction_weights()
    assert run(capsys, "--database-url", dataset, "--out", str(tmp_path / "g"), "--format", "graphml")[0] == 0
    graph = nx.read_graphml(tmp_path / "g" / "soundcloud_graph.graphml")
    assert graph.is_directed() and sorted(map(int, graph.nodes)) == [1, 2, 3]
    assert graph.nodes["1"] == {"permalink": "one", "username": "One & <Only>", "followers_count": 50}
    edges = graph_edges(graph)
    assert edges[(1, 2)] == {"like": 1, "repost": 1, "comment": 1, "follow": 1, "weight": sum(weights.values())}
    assert edges[(2, 1)] == {"like": 1, "weight": weights["like"]}
    assert set(edges) == {(1, 2), (2, 1), (3, 1)}

    assert run(capsys, "--database-url", dataset, "--out", str(tmp_path / "e"), "--format", "edgelist",
               "--since", "2025-06-01")[0] == 0
    listed = nx.read_edgelist(tmp_path / "e" / "soundcloud_graph.edgelist", nodetype=int, create_using=nx.DiGraph,
                              data=[("weight", float), ("like", int), ("repost", int), ("follow", int),
                                    ("comment", int)])
    got = graph_edges(listed)
    assert set(got) == {(1, 2), (2, 1)}, "--since: only the edges of the run that finished since"
    card = json.loads((tmp_path / "e" / "datacard.json").read_text())
    assert (card["graph"]["edges"], [r["id"] for r in card["crawl_runs"]]) == (2, [RUN_NEW])
    assert got[(1, 2)]["weight"] == sum(weights.values()) and got[(1, 2)]["follow"] == 1


def test_since_keeps_the_rows_of_runs_active_since(dataset: str, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "--database-url", dataset, "--out", str(tmp_path), "--format", "jsonl",
                    "--since", "2025-06-01", "--tables", "beatport_tracks,crawl_runs")
    assert code == 0, err
    assert [json.loads(line)["id"] for line in (tmp_path / "beatport_tracks.jsonl").read_text().splitlines()] == [5]
    assert [json.loads(line)["id"] for line in (tmp_path / "crawl_runs.jsonl").read_text().splitlines()] == [RUN_NEW]


@pytest.mark.parametrize(("argv", "message"), [
    (["--tables", "users"], "unknown table 'users' (tables: soundcloud_users,"),
    (["--since", "last week"], "bad --since 'last week' (use YYYY-MM-DD)"),
    (["--format", "graphml", "--tables", "cmt_songs"], "--tables does not apply to --format graphml"),
])
def test_mistakes_are_one_line_and_exit_2(dataset: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          argv: list[str], message: str) -> None:
    code, err = run(capsys, "--database-url", dataset, "--out", str(tmp_path), *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith(f"soundscraping export: error: {message}")


def test_a_missing_database_or_unwritable_out_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(capsys, "--database-url", f"sqlite:///{tmp_path}/none.sqlite3", "--out", str(tmp_path / "o"))
    assert (code, err) == (2, f"soundscraping export: error: no SQLite database at {tmp_path}/none.sqlite3\n")
    (tmp_path / "file").write_text("")
    code, err = run(capsys, "--database-url", "sqlite:///x.db", "--out", str(tmp_path / "file" / "sub"))
    assert code == 2 and err.count("\n") == 1 and "cannot write to --out" in err
    assert not Path("x.db").exists()


def test_recorded_settings_mask_secrets_and_keep_what_shaped_the_crawl() -> None:
    settings = Settings()
    settings.setmodule("soundscraping.settings", priority="project")
    settings.setdict({"DATABASE_URL": "postgresql://u:pw-1@db:5432/x", "AWS_SECRET_ACCESS_KEY": "sk-2",
                      "AWS_ACCESS_KEY_ID": "ak-3", "SOUNDCLOUD_CLIENT_ID": "cid-4", "DOWNLOAD_DELAY": 3,
                      "FILES_STORE": "s3://bucket/prefix/"}, priority="cmdline")
    recorded = recorded_settings(settings)
    text = json.dumps(recorded)
    assert not any(secret in text for secret in ("pw-1", "sk-2", "ak-3", "cid-4"))
    assert recorded["DATABASE_URL"] == "postgresql://u:***@db:5432/x"
    assert recorded["AWS_SECRET_ACCESS_KEY"] == recorded["AWS_ACCESS_KEY_ID"] == MASK
    assert recorded["DOWNLOAD_DELAY"] == 3 and recorded["FILES_STORE"] == "s3://bucket/prefix/"
    assert "ITEM_PIPELINES" in recorded
    assert "DNSCACHE_ENABLED" not in recorded, "Scrapy's untouched defaults are left out"


def test_the_data_dictionary_notes_name_real_columns() -> None:
    """A note about a column that was renamed or dropped would describe nothing."""
    from soundscraping.storage.schema import _NULLS, TABLE_DOCS

    assert set(TABLE_DOCS) == set(TABLES)
    assert {(t, c) for t, c in _NULLS} <= {(t.name, c) for t in TABLES.values() for c in t.column_names}
