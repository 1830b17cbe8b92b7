"""``soundscraping map`` on a generated graph with planted communities, in real
PostgreSQL and SQLite, its filters, its page in a real headless Chromium, and
its one-line errors."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from soundscraping.community_map import cli, data
from soundscraping.storage import TABLES, Database
from tests.crawl import REPO

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
GROUPS, PER_GROUP = 4, 60
HUB = 950_000  # + community: the account every member of that community follows closely
WHEN = "2025-05-01T12:00:00Z"


def row(table: str, **values: Any) -> tuple[Any, ...]:
    columns = TABLES[table].column_names
    full = dict.fromkeys(columns)
    full.update(values)
    return tuple(full[c] for c in columns)


@dataclass
class Planted:
    """A graph of four communities plus accounts each filter must drop or keep."""

    interactions: list[tuple[Any, ...]] = field(default_factory=list)
    visits: list[int] = field(default_factory=list)
    users: list[tuple[Any, ...]] = field(default_factory=list)
    group: dict[int, int] = field(default_factory=dict)  # account -> community
    kept: set[int] = field(default_factory=set)  # accounts the map must show
    keys: set[tuple[Any, ...]] = field(default_factory=set)

    def add(self, source: int, kind: str, target: int, obj: int | None) -> bool:
        key = (source, kind, target, obj)
        if key in self.keys:  # the table's unique key: a repeated like is one row
            return False
        self.keys.add(key)
        self.interactions.append(row("soundcloud_interactions", source_user_id=source, kind=kind,
                                     target_user_id=target, object_id=obj, created_at=WHEN))
        return True

    def likes(self, source: int, targets: list[int], n: int) -> None:
        """``n`` likes of distinct tracks, spread round-robin over ``targets``."""
        for i in range(n):
            assert self.add(source, "like", targets[i % len(targets)], 10_000 + i)

    def write(self, url: str) -> None:
        db = Database.from_url(url)
        db.connect()
        db.ensure_schema()
        db.write({
            "soundcloud_interactions": self.interactions,
            "soundcloud_graph_visits": [row("soundcloud_graph_visits", user_id=u, position=i, started_at=WHEN,
                                            finished_at=WHEN) for i, u in enumerate(self.visits)],
            "soundcloud_users": self.users,
        })
        db.close()


def plant() -> Planted:
    rng = np.random.default_rng(7)
    g = Planted()
    members = {k: [1000 + 100 * k + j for j in range(PER_GROUP)] for k in range(GROUPS)}
    artists = {k: [100_000 + 1000 * k + j for j in range(150)] for k in range(GROUPS)}
    mainstream = [900_000 + j for j in range(100)]  # everyone's favourites: no community signal
    kinds, kind_p = ["like", "repost", "follow", "comment"], [0.7, 0.12, 0.1, 0.08]
    for k in range(GROUPS):
        for account in members[k]:
            g.visits.append(account)
            g.group[account] = k
            g.kept.add(account)
            pool = [m for m in members[k] if m != account] + artists[k]
            popularity = 1 / np.arange(1, len(pool) + 1) ** 0.8  # a few stars, a long tail
            for _ in range(int(rng.integers(80, 200))):
                r = rng.random()
                if r < 0.6:
                    target = pool[rng.choice(len(pool), p=popularity / popularity.sum())]
                elif r < 0.88:
                    target = mainstream[int(rng.integers(len(mainstream)))]
                else:  # a little cross-community noise
                    other = int(rng.choice([o for o in range(GROUPS) if o != k]))
                    target = artists[other][int(rng.integers(150))]
                kind = str(rng.choice(kinds, p=kind_p))
                g.add(account, kind, target, None if kind == "follow" else target * 100 + int(rng.integers(30)))
            # The community's hub: 20 likes and 5 reposts from every member (about 15% of a member's score,
            # under the 0.4 share filter); nobody outside interacts with it.
            g.likes(account, [HUB + k], 20)
            for j in range(5):
                assert g.add(account, "repost", HUB + k, 40_000 + j)
    # Score sum below 50: dropped by the first filter.
    for i, n in enumerate([10, 20, 30, 45, 49]):
        g.visits.append(5001 + i)
        g.likes(5001 + i, artists[0][:25], n)
    # Exactly 50, spread out: kept.
    g.visits.append(5010)
    g.likes(5010, [HUB + 1, *artists[1][:24]], 50)  # its community's hub among them
    g.group[5010] = 1
    g.kept.add(5010)
    # Dominated by one target (share > 0.4): dropped by the second filter.
    for i in range(3):  # mostly liking their own tracks: 100 of 160
        g.visits.append(6001 + i)
        g.likes(6001 + i, [6001 + i], 100)
        for j in range(60):
            g.add(6001 + i, "like", artists[2][j % 30], 20_000 + j)
    g.visits.append(6004)  # one other artist takes 80 of 150
    g.likes(6004, [artists[3][0]], 80)
    for j in range(70):
        g.add(6004, "like", artists[3][1 + j % 35], 20_000 + j)
    g.visits.append(6005)  # 30 reposts x 3 = 90 of 150
    for j in range(30):
        g.add(6005, "repost", artists[0][0], 30_000 + j)
    for j in range(60):
        g.add(6005, "like", artists[0][1 + j % 30], 20_000 + j)
    # Boundary: largest share exactly 0.4 is kept, 0.41 is dropped.
    for account, top in ((6010, 40), (6011, 41)):
        g.visits.append(account)
        g.likes(account, [artists[3][100]], top)
        for j in range(100 - top):
            g.add(account, "like", artists[3][101 + j % 30], 20_000 + j)
    g.group[6010] = 3
    g.kept.add(6010)
    # Visited, but no interaction at all: score 0.
    g.visits += [7001, 7002]
    # Interactions from accounts never (fully) visited: not rows of the map.
    for account in (8001, 8002):
        g.likes(account, artists[2], 120)
    # Names and followers for most accounts and artists; a few are unknown (left join).
    everyone = sorted({*g.visits, *(a for k in artists for a in artists[k]), *mainstream,
                       *(HUB + k for k in range(GROUPS))})
    for uid in everyone:
        if uid in (1003, 5010):
            continue
        name = f"Hub {uid - HUB}" if uid >= HUB else f"Artist {uid}"
        g.users.append(row("soundcloud_users", id=uid, permalink=f"artist-{uid}", username=name,
                           followers_count=int(rng.integers(10, 200_000)), full_profile=True, scraped_at=WHEN))
    return g


VISITED, AFTER_SCORE, AFTER_SHARE = 255, 248, 242


def run_module(*args: str, module: str = "soundscraping.community_map",
               timeout: float = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)


def read_coordinates(out: Path) -> dict[int, dict[str, str]]:
    with (out / "coordinates.csv").open(encoding="utf-8") as fh:
        return {int(r["account_id"]): r for r in csv.DictReader(fh)}


def neighbour_accuracy(coords: dict[int, dict[str, str]], group: dict[int, int]) -> float:
    """Share of accounts whose nearest neighbour on the 2-D map is in their own community."""
    ids = sorted(coords)
    xy = np.array([[float(coords[i]["x"]), float(coords[i]["y"])] for i in ids])
    distances = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    np.fill_diagonal(distances, np.inf)
    nearest = distances.argmin(axis=1)
    return float(np.mean([group[ids[i]] == group[ids[j]] for i, j in enumerate(nearest)]))


def assert_counts_printed(stdout: str) -> None:
    assert f"  visited accounts: {VISITED}\n" in stdout
    assert f"  score sum >= 50: {AFTER_SCORE} kept, {VISITED - AFTER_SCORE} dropped\n" in stdout
    assert f"  largest share <= 0.4: {AFTER_SHARE} kept, {AFTER_SCORE - AFTER_SHARE} dropped\n" in stdout


@pytest.fixture(scope="module")
def planted() -> Planted:
    return plant()


@dataclass
class MapRun:
    url: str
    out: Path
    result: subprocess.CompletedProcess


@pytest.fixture(scope="module")
def sqlite_map(planted: Planted, tmp_path_factory: pytest.TempPathFactory) -> MapRun:
    """The planted graph in SQLite, mapped with ``python -m soundscraping.community_map``."""
    base = tmp_path_factory.mktemp("map-sqlite")
    url = f"sqlite:///{base}/graph.sqlite3"
    planted.write(url)
    out = base / "out"
    return MapRun(url, out, run_module("--database-url", url, "--out", str(out)))


def test_sqlite_map_end_to_end(sqlite_map: MapRun, planted: Planted) -> None:
    result = sqlite_map.result
    assert result.returncode == 0, result.stderr
    assert_counts_printed(result.stdout)
    for stage in ("[1/7] reading", "[2/7] filtering", "[3/7] truncated SVD", "[4/7] 2-component PCA",
                  "[5/7] t-SNE", "t-SNE iteration 750/750", "[6/7] k-means communities", "[7/7] writing"):
        assert stage in result.stdout
    coords = read_coordinates(sqlite_map.out)
    assert set(coords) == planted.kept
    accuracy = neighbour_accuracy(coords, planted.group)
    print(f"SQLite: nearest neighbour in the same community for {accuracy:.1%} of {len(coords)} accounts")
    assert accuracy >= 0.9
    assert coords[1000]["permalink"] == "artist-1000" and int(coords[1000]["followers"]) > 0
    assert coords[1003]["permalink"] == "" and coords[1003]["followers"] == ""  # unknown user: left join
    assert list(coords[1000]) == ["account_id", "permalink", "x", "y", "pca_x", "pca_y", "followers", "username",
                                  "cluster"]  # communities are on by default
    for name in ("map.html", "map.png", "pca.png"):
        assert (sqlite_map.out / name).stat().st_size > 10_000
    summary = json.loads((sqlite_map.out / "summary.json").read_text())
    assert (summary["visited"], summary["after_score"], summary["after_share"]) == (VISITED, AFTER_SCORE, AFTER_SHARE)
    assert set(summary["seconds"]) == {"read", "filter", "svd", "pca", "tsne", "clusters", "write", "total"}
    assert "communities.csv" in summary["files"] and (sqlite_map.out / "communities.csv").exists()
    assert (sqlite_map.out / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_postgresql_map_separates_planted_communities(pg_url: str, planted: Planted, sqlite_map: MapRun,
                                                      tmp_path: Path) -> None:
    planted.write(pg_url)
    out = tmp_path / "out"
    # The package's own entry point (what the `soundscraping` console script runs), with clusters.
    result = run_module("map", "--database-url", pg_url, "--out", str(out), "--clusters", module="soundscraping")
    assert result.returncode == 0, result.stderr
    assert_counts_printed(result.stdout)
    assert "[6/7] k-means communities" in result.stdout
    coords = read_coordinates(out)
    assert set(coords) == planted.kept
    accuracy = neighbour_accuracy(coords, planted.group)
    print(f"PostgreSQL: nearest neighbour in the same community for {accuracy:.1%} of {len(coords)} accounts")
    assert accuracy >= 0.9
    # Same data, same seed: the same map, whichever engine held the data.
    same = read_coordinates(sqlite_map.out)
    assert all(coords[i][c] == same[i][c] for i in coords for c in ("x", "y", "pca_x", "pca_y"))
    # The clusters find the planted communities.
    pairs = {(planted.group[i], int(coords[i]["cluster"])) for i in coords}
    purity = sum(max(sum(1 for i in coords if planted.group[i] == g and int(coords[i]["cluster"]) == c)
                     for g in range(GROUPS)) for c in {c for _, c in pairs}) / len(coords)
    print(f"clusters: k = {len({c for _, c in pairs})}, purity {purity:.1%}")
    assert len({c for _, c in pairs}) == GROUPS and purity >= 0.95
    # Each community is named by its planted hub first: communities.csv, the HTML legend, summary.json.
    with (out / "communities.csv").open(encoding="utf-8") as fh:
        found = list(csv.DictReader(fh))
    assert [int(c["community"]) for c in found] == list(range(GROUPS))
    page = (out / "map.html").read_text(encoding="utf-8")
    for c in found:
        members = [planted.group[i] for i in coords if int(coords[i]["cluster"]) == int(c["community"])]
        planted_group = max(set(members), key=members.count)
        assert int(c["size"]) == len(members)
        assert int(c["central_1_id"]) == HUB + planted_group, c
        assert c["central_1_name"] == f"Hub {planted_group}" and c["name"].startswith(f"Hub {planted_group}, ")
        assert float(c["central_1_share"]) == pytest.approx(1.0)  # nobody outside the community likes it
        assert f'"name":"{c["community"]}: {c["name"]} ({c["size"]})"' in page  # the legend entry
    summary = json.loads((out / "summary.json").read_text())
    assert [c["name"] for c in summary["clusters"]["communities"]] == [c["name"] for c in found]


def test_umap_gives_the_same_map_twice_and_separates_communities(sqlite_map: MapRun, planted: Planted,
                                                                  tmp_path: Path) -> None:
    runs = []
    for name in ("first", "second"):
        result = run_module("--database-url", sqlite_map.url, "--out", str(tmp_path / name), "--method", "umap",
                            "--no-clusters")
        assert result.returncode == 0, result.stderr
        assert "[5/6] UMAP to 2-D (seed 0)" in result.stdout
        runs.append(read_coordinates(tmp_path / name))
    first, second = runs
    assert set(first) == planted.kept
    assert all(first[i][c] == second[i][c] for i in first for c in ("x", "y"))  # the same seed, the same map
    assert "cluster" not in first[1000]
    accuracy = neighbour_accuracy(first, planted.group)
    print(f"UMAP: nearest neighbour in the same community for {accuracy:.1%} of {len(first)} accounts")
    assert accuracy >= 0.9
    tsne = read_coordinates(sqlite_map.out)
    assert any(first[i]["x"] != tsne[i]["x"] for i in first)  # really another method
    summary = json.loads((tmp_path / "first" / "summary.json").read_text())
    assert summary["options"]["method"] == "umap" and "umap" in summary["seconds"]


def test_factorize_is_numpy_unique_with_inverse() -> None:
    rng = np.random.default_rng(3)
    cases = [np.zeros(0, dtype=np.int64), np.array([5]), rng.integers(-3, 3, 50), rng.integers(0, 10**10, 100_000),
             rng.integers(-(2**62), 2**62, 1000)]  # the last one too wide to pack: numpy's own path
    for values in cases:
        unique, inverse = data.factorize(values.astype(np.int64))
        expected, expected_inverse = np.unique(values, return_inverse=True)
        assert np.array_equal(unique, expected) and np.array_equal(inverse, expected_inverse.ravel())


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("soundscraping")
    assert script.exists(), "the `soundscraping` console script is missing: run `make install`"
    result = subprocess.run([str(script), "map", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--database-url" in result.stdout and "--perplexity" in result.stdout


def test_map_html_works_offline_in_chromium(sqlite_map: MapRun, planted: Planted) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (make chromium installs it)")
    from playwright.sync_api import sync_playwright

    assert sqlite_map.result.returncode == 0, sqlite_map.result.stderr
    coords = read_coordinates(sqlite_map.out)
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("request", lambda request: requests.append(request.url))
            page.goto((sqlite_map.out / "map.html").as_uri())
            page.wait_for_function("document.getElementById('map')?.dataset.ready === '1'", timeout=30_000)
            shown = page.evaluate("""() => document.getElementById('map').data.slice(0, -1)
                .flatMap(t => Array.from(t.customdata, i => ACCOUNTS[i].id))""")
            assert sorted(shown) == sorted(planted.kept)
            drawn = page.evaluate("document.querySelectorAll('#map .scatterlayer .trace path.point').length")
            assert drawn == len(planted.kept)
            # The search box highlights an artist where the map put it.
            page.fill("#search", "Artist 1230")
            page.wait_for_function("document.getElementById('search-status').textContent === 'Artist 1230'")
            highlight = page.evaluate("""() => { const d = document.getElementById('map').data;
                const t = d[d.length - 1]; return [Array.from(t.x), Array.from(t.y), Array.from(t.text)]; }""")
            assert highlight == [[float(coords[1230]["x"])], [float(coords[1230]["y"])], ["Artist 1230"]]
            # The PCA view for comparison, and back.
            page.click("#view-toggle")
            pca_x = page.evaluate("Array.from(document.getElementById('map').data[0].x).slice(0, 3)")
            # The first points of the first trace (community 0: a trace per community).
            first = page.evaluate("""Array.from(document.getElementById('map').data[0].customdata).slice(0, 3)
                .map(i => ACCOUNTS[i].id)""")
            assert pca_x == [float(coords[i]["pca_x"]) for i in first]
            page.click("#view-toggle")
            # Clicking the point (zoomed in, so no bigger neighbour covers it) opens its profile.
            (x,), (y,) = highlight[0], highlight[1]
            page.evaluate("""([x, y]) => Plotly.relayout(document.getElementById('map'),
                {'xaxis.range': [x - 0.05, x + 0.05], 'yaxis.range': [y - 0.05, y + 0.05]})""", [x, y])
            page.evaluate("window.open = url => { window.openedUrl = url; }")
            box = page.locator("#map .scatterlayer .trace:last-child path.point").bounding_box()
            assert box is not None
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.wait_for_function("window.openedUrl !== undefined", timeout=5_000)
            assert page.evaluate("window.openedUrl") == "https://soundcloud.com/artist-1230"
        finally:
            browser.close()
    assert requests and requests[0].startswith("file://")
    network = [u for u in requests if u.split(":", 1)[0] not in ("file", "data", "blob")]
    assert network == [], f"the page made network requests: {network[:5]}"


def one_line_error(result: subprocess.CompletedProcess | tuple[int, str]) -> str:
    code, stderr = (result.returncode, result.stderr) if isinstance(result, subprocess.CompletedProcess) else result
    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def test_empty_graph_is_a_clear_error(pg_url: str, tmp_path: Path) -> None:
    db = Database.from_url(pg_url)
    db.connect()
    db.ensure_schema()
    db.close()
    line = one_line_error(run_module("--database-url", pg_url, "--out", str(tmp_path / "out")))
    assert line.startswith("soundscraping map: error: the interaction graph is empty")


def test_too_few_rows_for_the_perplexity_is_a_clear_error(sqlite_map: MapRun, tmp_path: Path) -> None:
    line = one_line_error(run_module("--database-url", sqlite_map.url, "--out", str(tmp_path / "out"),
                                     "--perplexity", "100"))
    assert f"only {AFTER_SHARE} accounts left after filtering" in line and "needs at least 301" in line


def test_user_mistakes_are_one_line_not_a_traceback(pg_url: str, sqlite_map: MapRun, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    cases = {
        "mysql://localhost/x": "unsupported DATABASE_URL scheme",
        "postgresql://postgres@127.0.0.1:1/nothing": "cannot connect to postgresql://postgres@127.0.0.1:1/nothing",
        f"sqlite:///{tmp_path}/missing.sqlite3": "does not exist",
        pg_url: "table soundcloud_interactions does not exist",  # a database without the schema
    }
    for url, message in cases.items():
        code = cli.main(["--database-url", url, "--out", str(tmp_path / "out")])
        assert message in one_line_error((code, capsys.readouterr().err))
    code = cli.main(["--database-url", sqlite_map.url, "--out", str(tmp_path), "--like-weight", "-1"])
    assert "weights >= 0" in one_line_error((code, capsys.readouterr().err))
    code = cli.main(["--database-url", sqlite_map.url, "--out", str(blocker / "out")])
    assert "cannot write to --out" in one_line_error((code, capsys.readouterr().err))
    not_a_database = tmp_path / "junk.sqlite3"
    not_a_database.write_bytes(b"this is not a database" * 100)
    code = cli.main(["--database-url", f"sqlite:///{not_a_database}", "--out", str(tmp_path / "o")])
    assert "file is not a database" in one_line_error((code, capsys.readouterr().err))
