"""Forum attachments against the reference's own markup (issue 9, item 5).

The reference (cambridge-mt.md §2.4, copied verbatim into
``tests/fixtures/cambridge_mt/reference_postbit.md``) shows two attachment
shapes: Cambridge's audio-player template — ``audio > source[src]`` with an
absolute ``attachment.php?aid=N``, the file name between ``&nbsp;&nbsp;`` and
``&nbsp;--&nbsp;``, a link whose text gives the size (``Download: 5.67 MB``,
quoted by issue 9 as ``(Download: N MB)``) — and stock MyBB's
``<a href="attachment.php?aid=N" target="_blank" title="date">file.mp3</a> (Size: 5.67 MB / Downloads: 12)``.

* The parser is fed pages built from those verbatim pieces (the reference's
  post markup around them), in every order and spacing the prose allows, and
  must read file name, size and URL — never the Download link text as a name.
* The replica must render exactly those shapes (element, attributes, text
  order) and nothing else, and its post markup must hold the reference's.
* An e-mail-like author in §2.4's Cloudflare form is still read.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from parsel import Selector

from replicas.cambridge_mt.cloudflare import cfemail_hex
from replicas.cambridge_mt.mybb import render_thread
from replicas.cambridge_mt.world import FORUM_URL, Forum, ForumConfig, Library, Song, build_forum, friendly_size
from soundscraping.sites.cambridge_mt.attachments import attachment_aid, parse_attachments, parse_size
from soundscraping.sites.cambridge_mt.forum import parse_thread_page

FIXTURE = Path(__file__).parent / "fixtures" / "cambridge_mt" / "reference_postbit.md"
PAGE_URL = f"{FORUM_URL}/showthread.php?tid=42"


# --- the reference's verbatim pieces ------------------------------------------------------------


@cache

def html_tree(markup: str) -> Any:
    """The lxml.html tree of a page, parsed as the parsers parse it (parsel's
    HTML parser yields lxml.html elements: drop_tree, text_content, …)."""
    return Selector(text=markup).root

def reference() -> str:
    return FIXTURE.read_text(encoding="utf-8")


def reference_postbit() -> str:
    """The post markup block of §2.4, verbatim."""
    return re.search(r"```\n(.*?)```", reference(), re.S).group(1)


def reference_span(pattern: str) -> str:
    """The one inline code span of §2.4's prose matching ``pattern``."""
    prose = reference().split("```")[-1]
    spans = [s for s in re.findall(r"`([^`\n]+)`", prose) if re.search(pattern, s)]
    assert len(spans) == 1, (pattern, spans)
    return spans[0]


NAME_START = reference_span(r"^&nbsp;&nbsp;$")
NAME_END = reference_span(r"^&nbsp;--&nbsp;$")
DOWNLOAD = reference_span(r"^Download: ")  # "Download: 5.67 MB"
AUDIO_SRC = reference_span(r"^https://.*attachment\.php\?aid=N$")
STOCK = reference_span(r"^<a href=\"attachment\.php")
PLAYER = reference_span(r"^audio > source\[src\]$")


def player_line(aid: int, name: str, *, label: str | None = None, audio: str = "after",
                start: str = NAME_START, end: str = NAME_END) -> str:
    """Cambridge's template from the reference's pieces: name between the two
    markers, then the Download link; the player (order undocumented) before,
    between or after."""
    label = f"({DOWNLOAD})" if label is None else label
    player = f'<audio controls="controls"><source src="{AUDIO_SRC.replace("aid=N", f"aid={aid}")}" /></audio>'
    link = f'<a href="attachment.php?aid={aid}">{label}</a>'
    named = f"{start}{name}{end}"
    body = {"before": f"{player}<br />{named}{link}", "between": f"{named}{player} {link}",
            "after": f"{named}{link}<br />{player}", "none": f"{named}{link}"}[audio]
    return f'<br /><img src="{FORUM_URL}/images/attachtypes/audio.png" alt=".mp3" />{body}'


def stock_line(aid: int, name: str) -> str:
    return f"<br />{NAME_START}" + STOCK.replace("aid=N", f"aid={aid}").replace("file.mp3", name)


def thread_page(attachments: str, message: str = "Here is my mix. Feedback welcome!") -> str:
    """A thread page: the reference's post markup with its placeholders filled."""
    post = (reference_postbit()
            .replace("{avatar}", "")
            .replace("…member.php", f"{FORUM_URL}/member.php")
            .replace("tid=N", "tid=42"))
    post = re.sub(r"…message HTML[^…]*…", message, post)
    post = post.replace("…attachments…", attachments)
    post = post.replace("   (only with attachments)", "")
    return ('<html><head><title>My mix</title></head><body><div class="navigation">'
            f'<a href="{FORUM_URL}/index.php">Discussion Zone</a> <span class="active">My mix</span></div>'
            f"{post}</body></html>")


def test_the_fixture_is_the_reference() -> None:
    assert (NAME_START, NAME_END, DOWNLOAD, PLAYER) == ("&nbsp;&nbsp;", "&nbsp;--&nbsp;", "Download: 5.67 MB",
                                                       "audio > source[src]")
    assert AUDIO_SRC == "https://discussion.cambridge-mt.com/attachment.php?aid=N"
    assert STOCK == ('<a href="attachment.php?aid=N" target="_blank" title="date">file.mp3</a> '
                     "(Size: 5.67 MB / Downloads: 12)")
    assert '<fieldset><legend><strong>Attached Files</strong></legend> …attachments… </fieldset>' in reference_postbit()


# --- the parser on the reference's shapes ---------------------------------------------------------


def mixes_of(html: str) -> dict[str, tuple[Any, ...]]:
    page = parse_thread_page(html, PAGE_URL)
    assert [p.pid for p in page.posts] == [123]
    return {m.url: (m.kind, m.filename) for m in page.mixes}


def attachments_of(html: str) -> dict[int, tuple[Any, ...]]:
    post = Selector(text=html).css("div.post")[0]
    return {a.aid: (a.url, a.filename, a.size_text, a.size_bytes, a.downloads, a.player)
            for a in parse_attachments(post, PAGE_URL)}


MB_567 = round(5.67 * 2**20)


@pytest.mark.parametrize("audio", ["after", "before", "between", "none"])
@pytest.mark.parametrize("label", [f"({DOWNLOAD})", DOWNLOAD])
def test_player_template_file_name(audio: str, label: str) -> None:
    html = thread_page(player_line(7001, "Young Blood - my mix v2.mp3", label=label, audio=audio))
    url = f"{FORUM_URL}/attachment.php?aid=7001"
    assert mixes_of(html) == {url: ("attachment" if audio == "none" else "audio", "Young Blood - my mix v2.mp3")}
    assert attachments_of(html) == {7001: (url, "Young Blood - my mix v2.mp3", "5.67 MB", MB_567, None,
                                           audio != "none")}


@pytest.mark.parametrize(("start", "end"), [
    ("&#160;&#160;", "&#160;--&#160;"),           # numeric entities
    ("\u00a0\u00a0", "\u00a0--\u00a0"),           # the characters themselves
    ("&nbsp; &nbsp;", " &nbsp;--&nbsp; "),        # spaces mixed in
    ("&nbsp;&nbsp;\n  ", "\n&nbsp;--&nbsp;\n"),   # line breaks in the source
    ("&nbsp;&nbsp;", "&nbsp;--&nbsp;("),          # the bracket outside the link: "(<a>Download: …</a>)"
])
def test_player_template_whitespace_variants(start: str, end: str) -> None:
    label = DOWNLOAD if end.endswith("(") else None
    html = thread_page(player_line(7002, "mix.mp3", start=start, end=end, label=label))
    assert mixes_of(html) == {f"{FORUM_URL}/attachment.php?aid=7002": ("audio", "mix.mp3")}


@pytest.mark.parametrize("name", [
    "mix--v2.mp3",            # "--" inside the name: the separator is the last one
    "R&amp;B mix (final).mp3",
    "0.02 MB.mp3",            # looks like a size
    "Download.mp3",           # starts like the link
    "杨晨 - 混音.mp3",
])
def test_player_template_unusual_names(name: str) -> None:
    expected = name.replace("&amp;", "&")
    html = thread_page(player_line(7003, name))
    assert mixes_of(html) == {f"{FORUM_URL}/attachment.php?aid=7003": ("audio", expected)}


def test_player_template_without_a_name_keeps_none_not_the_link_text() -> None:
    html = thread_page(player_line(7004, ""))
    assert mixes_of(html) == {f"{FORUM_URL}/attachment.php?aid=7004": ("audio", None)}


def test_stock_template() -> None:
    html = thread_page(stock_line(7005, "my mix.wav"))
    url = f"{FORUM_URL}/attachment.php?aid=7005"
    assert mixes_of(html) == {url: ("attachment", "my mix.wav")}
    assert attachments_of(html) == {7005: (url, "my mix.wav", "5.67 MB", MB_567, 12, False)}


def test_several_attachments_keep_their_own_names() -> None:
    lines = (player_line(7010, "first.mp3") + stock_line(7011, "second.wav")
             + player_line(7012, "third.mp3", audio="before") + player_line(7013, "fourth.mp3", audio="between"))
    found = attachments_of(thread_page(lines))
    assert {aid: row[1] for aid, row in found.items()} == {
        7010: "first.mp3", 7011: "second.wav", 7012: "third.mp3", 7013: "fourth.mp3"}
    assert [row[5] for row in found.values()] == [True, False, True, True]


def test_quoted_attachment_is_the_quoted_posts() -> None:
    quoted = ('<blockquote class="mycode_quote"><cite>Dignis Wrote:</cite>'
              f'{player_line(7020, "theirs.mp3", audio="none")}</blockquote>Nice one.')
    html = thread_page(stock_line(7021, "mine.mp3"), message=quoted)
    assert mixes_of(html) == {f"{FORUM_URL}/attachment.php?aid=7021": ("attachment", "mine.mp3")}


CF_EMAIL = reference_span(r"__cf_email__")


@pytest.mark.parametrize("hidden", ["reference", "span"])
def test_email_like_author_in_the_post(hidden: str) -> None:
    """§2.4's Cloudflare form of an e-mail-like user name, inside the profile
    link (split out of it by the HTML parser), and Cloudflare's in-link span."""
    data = cfemail_hex("mixer.joe@gmail.com", 0x5A)  # the replica's encoder, not the product's
    if hidden == "reference":
        name = CF_EMAIL.replace("HEX", data)
    else:
        name = f'<span class="__cf_email__" data-cfemail="{data}">[email&#160;protected]</span>'
    html = thread_page(stock_line(7030, "mix.mp3")).replace(">User</a>", f">{name}</a>", 1)
    assert [p.author for p in parse_thread_page(html, PAGE_URL).posts] == ["mixer.joe@gmail.com"]


def test_sizes_and_aids() -> None:
    assert parse_size("5.67 MB") == MB_567
    assert parse_size("20.5 KB") == 20992 and parse_size("1,023 bytes") == 1023 and parse_size("2.2 GB") == 2362232013
    assert parse_size("n/a") is None and parse_size(None) is None
    assert attachment_aid("attachment.php?aid=12") == 12
    assert attachment_aid(f"{FORUM_URL}/attachment.php?aid=12") == 12
    assert attachment_aid("attachment.php?thumbnail=12") is None
    assert attachment_aid("https://www.dropbox.com/s/x/aid=3.wav") is None


# --- the replica renders exactly the reference's shapes -------------------------------------------


def small_library(n: int = 60) -> Library:
    """Songs enough for both attachment styles, without the shared CSV."""
    songs = [Song(index=i, genre="Rock / Punk / Metal", sub_genre="Indie Rock", artist=f"Band {i}",
                  raw_title=f"'Song {i}'", title=f"Song {i}", composer=None, is_new=False, full_urls=[],
                  excerpt_urls=[], full_tracks=None, excerpt_tracks=None, parts=None, full_preview=None,
                  excerpt_preview=None, unmastered=None, fid=400 + i, external=False, registration=False)
             for i in range(n)]
    return Library(songs)


@pytest.fixture(scope="module")
def world() -> tuple[Library, Forum]:
    library = small_library()
    return library, build_forum(library, ForumConfig(seed=9, thread_weights=(0, 20, 20, 20)))


Token = tuple[str, ...]


def tokens(nodes: list[Any], names: dict[str, str]) -> list[Token]:
    """Elements (tag, attribute names in order, normalised values) and text
    runs in document order; ids, names, sizes, dates and hosts made generic so
    two renderings of the same shape compare equal."""

    def norm(text: str) -> str:
        for real, generic in names.items():
            text = text.replace(real, generic)
        text = re.sub(r"\d[\d.,]*\s*(?:bytes|KB|MB|GB)", "SIZE", text)
        text = re.sub(r"\d{2}-\d{2}-\d{4}, \d{2}:\d{2} [AP]M", "date", text)
        return re.sub(r"\d[\d,]*", "N", text)

    out: list[Token] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            if node:
                out.append(("text", norm(node)))
            return
        if not isinstance(node.tag, str):  # template comments
            return
        out.append(("start", node.tag, *(f"{k}={norm(v)}" for k, v in node.attrib.items())))
        walk(node.text or "")
        for child in node:
            walk(child)
            walk(child.tail or "")
        out.append(("end", node.tag))

    for node in nodes:
        walk(node)
    # Adjacent text runs (split by comments) are one run.
    merged: list[Token] = []
    for tok in out:
        if tok[0] == "text" and merged and merged[-1][0] == "text":
            merged[-1] = ("text", merged[-1][1] + tok[1])
        else:
            merged.append(tok)
    # Source line breaks and indentation are not part of the shape (non-breaking spaces are).
    merged = [("text", re.sub(r"[ \t\r\n]+", " ", t[1]).strip(" ")) if t[0] == "text" else t for t in merged]
    return [t for t in merged if t != ("text", "")]


def fragment(markup: str) -> list[Any]:
    """Top-level nodes (elements and text) of an HTML fragment."""
    # (Not fragment_fromstring: it drops a leading run of non-breaking spaces.)
    holder = html_tree(f'<html><body><div id="fragment">{markup}</div></body></html>')
    holder = holder.get_element_by_id("fragment")
    nodes: list[Any] = [holder.text or ""]
    for child in holder:
        nodes += [child, child.tail or ""]
    return nodes


def attachment_lines(fieldset: Any) -> list[list[Any]]:
    """The fieldset's attachment lines: what follows each ``<br />``, the
    attachment icon left out."""
    lines: list[list[Any]] = []
    for child in fieldset:
        if not isinstance(child.tag, str):
            if lines and child.tail:
                lines[-1].append(child.tail)
            continue
        if child.tag == "br":
            lines.append([child.tail or ""])
        elif lines and not (child.tag == "img" and "attachtypes" in child.get("src", "")):
            lines[-1] += [child, child.tail or ""]
        elif lines:
            lines[-1].append(child.tail or "")
    return lines


def rendered_fieldsets(library: Library, forum: Forum) -> dict[int, Any]:
    """pid → the ``<fieldset>`` the replica renders for it."""
    out = {}
    for thread in forum.threads.values():
        pages = (len(thread.posts) + 9) // 10
        for page_no in range(1, pages + 1):
            root = html_tree(render_thread(forum, library, thread.tid, page_no, forum.now))
            for post in root.xpath("//div[starts-with(@id, 'post_')][contains(concat(' ', @class, ' '), ' post ')]"):
                field = post.xpath(".//fieldset")
                if field:
                    out[int(post.get("id")[5:])] = field[0]
    return out


def reference_player_tokens() -> list[Token]:
    """Cambridge's template as the reference describes it, in the order it
    gives: the name between the markers, the Download link (issue 9's
    "(Download: N MB)"), and the ``audio > source[src]`` player."""
    markup = (f'{NAME_START}NAME{NAME_END}<a href="attachment.php?aid=N">({DOWNLOAD})</a>'
              f'<audio controls="controls"><source src="{AUDIO_SRC}"></audio>')
    return tokens(fragment(markup), {})


def reference_stock_tokens() -> list[Token]:
    return tokens(fragment(f"{NAME_START}{STOCK.replace('file.mp3', 'NAME')}"), {})


def test_replica_attachments_are_the_reference_shapes(world: tuple[Library, Forum]) -> None:
    library, forum = world
    fieldsets = rendered_fieldsets(library, forum)
    posts = forum.posts
    assert set(fieldsets) == {pid for pid, p in posts.items() if p.attachments}
    want = {"player": reference_player_tokens(), "stock": reference_stock_tokens()}
    seen = set()
    for pid, fieldset in fieldsets.items():
        legend = fieldset.xpath("./legend")
        assert [(e.tag, e.text_content()) for e in legend] == [("legend", "Attached Files")]
        assert legend[0].xpath("./strong/text()") == ["Attached Files"]
        lines = attachment_lines(fieldset)
        assert len(lines) == len(posts[pid].attachments)
        for att, line in zip(posts[pid].attachments, lines, strict=True):
            names = {att.filename: "NAME", str(att.aid): "N", forum.base: "https://discussion.cambridge-mt.com"}
            assert tokens(line, names) == want[att.style], (pid, att)
            seen.add(att.style)
    assert seen == {"player", "stock"}


def test_replica_attachment_values(world: tuple[Library, Forum]) -> None:
    """The values in the shapes: the real file name, the size of the file the
    replica serves, the player's absolute source."""
    library, forum = world
    for pid, fieldset in rendered_fieldsets(library, forum).items():
        for att, line in zip(forum.posts[pid].attachments, attachment_lines(fieldset), strict=True):
            text = "".join(n if isinstance(n, str) else n.text_content() for n in line)
            if att.style == "player":
                assert text.startswith(f"\u00a0\u00a0{att.filename}\u00a0--\u00a0(Download: ")
                assert f"(Download: {att.size / 2**20:.2f} MB)" in text
                src = next(n for n in line if not isinstance(n, str) and n.tag == "audio").xpath("./source/@src")
                assert src == [f"{forum.base}/attachment.php?aid={att.aid}"]
            else:
                assert text.startswith(f"\u00a0\u00a0{att.filename} (Size: {friendly_size(att.size)} / Downloads: ")


def test_friendly_size_is_mybbs() -> None:
    assert [friendly_size(n) for n in (0, 512, 1024, 20992, 76_283, 5_945_426, 3 << 20, 1_048_575)] == [
        "0 bytes", "512 bytes", "1 KB", "20.5 KB", "74.5 KB", "5.67 MB", "3 MB", "1,024 KB"]


def element_paths(root: Any) -> list[str]:
    """Every element as its path of ``tag.class#id`` steps (digits in ids made
    generic), in document order."""
    out: list[str] = []

    def walk(el: Any, prefix: str) -> None:
        if not isinstance(el.tag, str):
            return
        step = el.tag + "".join(f".{c}" for c in sorted((el.get("class") or "").split()))
        if el.get("id"):
            step += "#" + re.sub(r"\d+", "N", el.get("id"))
        path = f"{prefix} > {step}" if prefix else step
        out.append(path)
        for child in el:
            walk(child, path)

    walk(root, "")
    return out


def test_replica_post_markup_holds_the_reference(world: tuple[Library, Forum]) -> None:
    """The reference's postbit (§2.4) — every element, with its classes and
    ids, at its place in the tree and in its order — is in the replica's post."""
    library, forum = world
    post = next(p for p in forum.posts.values() if p.attachments)
    reference_root = html_tree(thread_page(stock_line(1, "x.mp3")))
    want = element_paths(reference_root.xpath("//div[@id='posts']")[0])
    root = html_tree(render_thread(forum, library, post.tid, 1, forum.now))
    posts = root.xpath("//div[@id='posts']")[0]
    # Only the reference's one post: its anchor and its div.
    for el in posts.xpath(f"./a[@name!='pid{post.pid}'] | ./div[@id!='post_{post.pid}']"):
        el.drop_tree()
    have = element_paths(posts)
    missing = [p for p in want if p not in have]
    assert not missing
    assert sorted(want, key=have.index) == want, "same order as the reference"
    # The reference's attributes on the elements it shows.
    div = posts.xpath(f"./div[@id='post_{post.pid}']")[0]
    assert (div.get("class"), div.get("style")) == ("post ", "")
    assert posts.xpath(f"./a[@name='pid{post.pid}']/@id") == [f"pid{post.pid}"]
    head_link = div.xpath(".//div[@class='post_head']/div[contains(@class, 'float_right')]/strong/a/@href")
    assert head_link == [f"showthread.php?tid={post.tid}&pid={post.pid}#pid{post.pid}"]
    author = div.xpath(".//div[@class='author_information']/strong/span[@class='largetext']/a/@href")
    assert author == [f"{forum.base}/member.php?action=profile&uid={post.user.uid}"]
    assert div.xpath(".//span[@class='post_date']/span[@class='post_edit']/@id") == [f"edited_by_{post.pid}"]
    assert div.xpath(".//div[@class='post_content']/fieldset/preceding-sibling::div[1]/@id") == [f"pid_{post.pid}"]
