"""The Cambridge-MT replica itself: what it must reproduce (cambridge-mt.md §5)
and the HTTP behaviour the streaming path relies on (HEAD, Range, If-Range,
ETag, dropped connections), checked with a plain HTTP client."""

from __future__ import annotations

import hashlib
import io
import re
import time
import zipfile
from collections.abc import Iterator
from html import unescape

import pytest
import urllib3

from replicas.cambridge_mt import CambridgeReplica, ForumConfig, Library, Quirks, build_forum, load_library
from replicas.cambridge_mt.cloudflare import cfemail_hex
from replicas.cambridge_mt.content import BLOCK, StreamFile
from replicas.cambridge_mt.mybb import cf_text, render_forum
from tests.fixtures import CAMBRIDGE_FID6_PAGE

http = urllib3.PoolManager(retries=False)


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


@pytest.fixture(scope="module")
def replica(library: Library) -> Iterator[CambridgeReplica]:
    riesling = library.song("Riesling")
    quirks = Quirks(large_files={riesling.full_urls[0]: 5 * BLOCK + 123}, drop_after={riesling.full_urls[0]: 1000})
    with CambridgeReplica(library, build_forum(library, ForumConfig(seed=2)), quirks) as running:
        yield running


def test_library_page_and_old_path(replica: CambridgeReplica) -> None:
    page = http.request("GET", replica.library_url)
    assert page.status == 200 and page.data.count(b'class="m-mtk-track"') == 616
    moved = http.request("GET", f"{replica.urls['library']}/ms/mtk/", redirect=False)
    assert moved.status == 301 and moved.headers["Location"] == "/ms3/mtk/"


def test_zip_head_range_and_if_range(replica: CambridgeReplica, library: Library) -> None:
    url = library.url(library.song("Backroom In Tulsa").full_urls[0])
    head = http.request("HEAD", url)
    data = http.request("GET", url).data
    assert head.status == 200 and int(head.headers["Content-Length"]) == len(data)
    assert head.headers["Accept-Ranges"] == "bytes"
    assert head.headers["ETag"] == f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'
    part = http.request("GET", url, headers={"Range": "bytes=100-", "If-Range": head.headers["ETag"]})
    assert part.status == 206 and part.data == data[100:]
    assert part.headers["Content-Range"] == f"bytes 100-{len(data) - 1}/{len(data)}"
    changed = http.request("GET", url, headers={"Range": "bytes=100-", "If-Range": '"stale"'})
    assert changed.status == 200 and changed.data == data
    assert http.request("GET", url, headers={"Range": f"bytes={len(data)}-"}).status == 416


def test_zips_are_real_multitracks(replica: CambridgeReplica, library: Library) -> None:
    song = library.song("Into My Dreams")  # 113 tracks in 4 parts
    names = []
    for url in song.full_urls:
        archive = zipfile.ZipFile(io.BytesIO(http.request("GET", library.url(url)).data))
        names += [n for n in archive.namelist() if not n.startswith("__MACOSX/")]
        assert archive.testzip() is None
    assert len(names) == 113 and len(set(names)) == 113
    assert names[0] == "PerpetualEscape_IntoMyDreams_Full/01_Kick.wav"
    junk = next(s for s in library.songs if s.index % 5 == 0 and s.full_urls and s.full_urls[0].endswith(".zip"))
    listing = zipfile.ZipFile(io.BytesIO(http.request("GET", library.url(junk.full_urls[0])).data)).namelist()
    assert any(n.startswith("__MACOSX/") for n in listing)


def test_large_file_is_generated_and_dropped_once(replica: CambridgeReplica, library: Library) -> None:
    url = library.url(library.song("Riesling").full_urls[0])
    size = 5 * BLOCK + 123
    head = http.request("HEAD", url)
    assert int(head.headers["Content-Length"]) == size
    first = http.request("GET", url, preload_content=False)
    received = b""
    with pytest.raises(urllib3.exceptions.ProtocolError):
        while chunk := first.read1(65536):
            received += chunk
    assert len(received) == 1000
    rest = http.request("GET", url, headers={"Range": "bytes=1000-"}).data
    whole = received + rest
    assert len(whole) == size and hashlib.md5(whole, usedforsecurity=False).hexdigest() == replica.md5(url)


def test_stream_file_blocks() -> None:
    big = StreamFile(3 * BLOCK + 7, seed="x")
    whole = b"".join(big.iter_range())
    assert len(whole) == big.size
    assert b"".join(big.iter_range(BLOCK - 5, 2 * BLOCK + 5)) == whole[BLOCK - 5: 2 * BLOCK + 6]
    assert big.block(0) != big.block(1), "a resume at a wrong offset changes the checksum"
    assert big.md5() == hashlib.md5(whole, usedforsecurity=False).hexdigest()


def test_forum_pages_and_guest_cookie(replica: CambridgeReplica) -> None:
    forum = replica.urls["forum"]
    root = http.request("GET", f"{forum}/forumdisplay.php?fid=184")
    assert root.status == 200 and root.data.count(b"forumbit_depth2_forum -->") == 12  # 6 genres, start + end
    cookie = root.headers["Set-Cookie"].split(";")[0]
    assert cookie.startswith("mybb[lastvisit]=")
    big = max(replica.forum.song_forums.values(), key=lambda sf: len(sf.threads))
    fresh = http.request("GET", f"{forum}/forumdisplay.php?fid={big.fid}").data
    seen = http.request("GET", f"{forum}/forumdisplay.php?fid={big.fid}", headers={"Cookie": cookie}).data
    assert b"subject_old" not in fresh and b"subject_old" in seen
    assert http.request("GET", f"{forum}/forumdisplay.php?fid=99999").status == 404


def test_attachments(replica: CambridgeReplica) -> None:
    att = next(iter(replica.forum.attachments.values()))
    response = http.request("GET", f"{replica.urls['forum']}/attachment.php?aid={att.aid}")
    assert response.status == 200 and att.filename in response.headers["Content-Disposition"]
    assert "Accept-Ranges" not in response.headers  # MyBB serves attachments whole


def test_http_400_after_a_burst_until_a_pause(library: Library) -> None:
    small = library.subset(library.songs[:3])
    with CambridgeReplica(small, build_forum(small), Quirks(burst_400=(5, 10.0, 0.3))) as burst:
        url = f"{burst.urls['forum']}/forumdisplay.php?fid=184"
        statuses = [http.request("GET", url).status for _ in range(8)]
        assert statuses[:5] == [200] * 5 and set(statuses[5:]) == {400}
        time.sleep(0.1)
        assert http.request("GET", url).status == 400, "asking again too soon keeps the block"
        time.sleep(0.4)
        assert http.request("GET", url).status == 200


def test_genre_page_rows_as_the_real_page_writes_them(library: Library) -> None:
    """The real genre page (fid=6, 2024-03-19) writes song-forum names as
    MyBB does: ``&amp;`` but apostrophes as they are.  Where the replica's
    forum has the real page's name, it writes it byte for byte the same."""
    real_page = CAMBRIDGE_FID6_PAGE
    row = re.compile(r'<strong><a href="forumdisplay\.php\?fid=(\d+)">(.*?)</a></strong>')
    real = dict(row.findall(real_page.read_text(encoding="utf-8")))
    forum = build_forum(library, ForumConfig(seed=2))
    ours = dict(row.findall(render_forum(forum, 6, 1, forum.now, None)))
    same = [fid for fid in real if fid in ours and unescape(ours[fid]) == unescape(real[fid])]
    assert len(same) >= 100 and any("'" in real[fid] for fid in same)
    assert {fid: ours[fid] for fid in same} == {fid: real[fid] for fid in same}


def test_cloudflare_email_is_the_references_xor_form() -> None:
    """§2.4: data-cfemail is hex, its first byte the XOR key of the UTF-8 bytes
    after it; the replica hides every e-mail-like name that way, with
    ``[email&#160;protected]`` as the text (decoded here by hand, not by the spider)."""
    assert cfemail_hex("mixer.joe@gmail.com", 0x5A) == "5a3733223f287430353f1a3d373b333674393537"
    raw = bytes.fromhex(cfemail_hex("杨晨@example.cn", 0x33))
    assert raw[0] == 0x33 and bytes(b ^ 0x33 for b in raw[1:]).decode("utf-8") == "杨晨@example.cn"
    with pytest.raises(ValueError, match="one byte"):
        cfemail_hex("a@b.cd", 256)
    hidden = cf_text("mail mixer.joe@gmail.com & co")
    data = re.search(r'<a href="/cdn-cgi/l/email-protection" class="__cf_email__" data-cfemail="([0-9a-f]+)">'
                     r"\[email&#160;protected\]</a>", hidden)
    assert data and hidden.startswith("mail ") and hidden.endswith(" &amp; co")
    raw = bytes.fromhex(data.group(1))
    assert raw[0] != 0 and bytes(b ^ raw[0] for b in raw[1:]) == b"mixer.joe@gmail.com"
    assert "<span class=\"__cf_email__\"" in cf_text("x@y.org", in_link=True)
