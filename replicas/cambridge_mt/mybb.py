# ruff: noqa: E501 - MyBB template markup keeps its long lines, as served
"""MyBB 1.8 pages of the replica forum (``forumdisplay.php``, ``showthread.php``,
``index.php``), after the templates in cambridge-mt.md §2 and the real
captured genre page: template comments, relative hrefs in lists and absolute
ones for members and audio, ``&amp;`` in attributes, alternating
``trow1``/``trow2`` rows, thousands separators, relative dates with a
``title``, Cloudflare e-mail obfuscation, both thread-list author templates
(2024 ``div.author``, 2025 ``span.author`` + ``span.thread_start_datetime``),
the Cambridge audio player for attachments and stock MyBB attachment links.
"""

from __future__ import annotations

import re
import time

from replicas.cambridge_mt.cloudflare import cfemail_hex, cfemail_key
from replicas.cambridge_mt.world import (
    ROOT_FID,
    ROOT_NAME,
    Attachment,
    Forum,
    GenreForum,
    Library,
    Post,
    Segment,
    SongForum,
    Thread,
    User,
)

__all__ = ["POSTS_PER_PAGE", "THREADS_PER_PAGE", "cf_text", "mybb_date", "render_forum", "render_index", "render_thread"]

THREADS_PER_PAGE = 20
POSTS_PER_PAGE = 10
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


# --- small pieces ---------------------------------------------------------------------


def _html(text: str) -> str:
    """MyBB's htmlspecialchars_uni(): ``& < > "`` escaped, apostrophes left
    as they are (the real genre page shows ``Ale Lak: 'Nosso Mundo…'``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def cf_text(text: str, in_link: bool = False) -> str:
    """Escaped text with e-mail addresses hidden the way Cloudflare does:
    a ``<span>`` inside links, an ``<a href="/cdn-cgi/l/email-protection">``
    elsewhere, ``[email&#160;protected]`` as the visible text."""
    out, pos = [], 0
    for m in _EMAIL.finditer(text):
        out.append(_html(text[pos:m.start()]))
        data = cfemail_hex(m.group(0), cfemail_key(m.group(0)))
        if in_link:
            out.append(f'<span class="__cf_email__" data-cfemail="{data}">[email&#160;protected]</span>')
        else:
            out.append(f'<a href="/cdn-cgi/l/email-protection" class="__cf_email__" '
                       f'data-cfemail="{data}">[email&#160;protected]</a>')
        pos = m.end()
    out.append(_html(text[pos:]))
    return "".join(out)


def _d(t: int) -> str:
    return time.strftime("%d-%m-%Y", time.gmtime(t))


def _hm(t: int) -> str:
    return time.strftime("%I:%M %p", time.gmtime(t))


def mybb_date(t: int, now: int | None = None) -> str:
    """MyBB's ``my_date('relative')`` (board time zone UTC): minutes/hours
    ago (under 12 hours, with the full date as title), Today/Yesterday (the
    date as title, the time after), else ``d-m-Y, h:i A``."""
    now = int(time.time()) if now is None else now
    diff = now - t
    full = f"{_d(t)}, {_hm(t)}"
    if 0 <= diff < 3600:
        minutes = max(1, diff // 60)
        return f'<span title="{full}">{minutes} minute{"s" if minutes != 1 else ""} ago</span>'
    if 3600 <= diff < 43200:
        hours = diff // 3600
        return f'<span title="{full}">{hours} hour{"s" if hours != 1 else ""} ago</span>'
    if _d(t) == _d(now):
        return f'<span title="{_d(t)}">Today</span>, {_hm(t)}'
    if _d(t) == _d(now - 86400):
        return f'<span title="{_d(t)}">Yesterday</span>, {_hm(t)}'
    return full


def _profile(base: str, user: User) -> str:
    """A profile link.  An e-mail-like user name is hidden the way the
    reference shows it for user names (§2.4): Cloudflare's own
    ``<a href="/cdn-cgi/l/email-protection" class="__cf_email__">``, here inside
    the profile link (the uid stays known), which HTML parsers split into two
    sibling links — the stricter case next to Cloudflare's in-link ``<span>``."""
    return (f'<a href="{base}/member.php?action=profile&amp;uid={user.uid}">'
            f"{cf_text(user.name)}</a>")


def _head(base: str, title: str, template: str) -> str:
    return f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd"><!-- start: {template} -->
<html xml:lang="en" lang="en" xmlns="http://www.w3.org/1999/xhtml">
<head>
<title>{_html(title)}</title>
<!-- start: headerinclude -->
<link rel="alternate" type="application/rss+xml" title="Latest Threads (RSS 2.0)" href="{base}/syndication.php" />
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
<script type="text/javascript" src="{base}/jscripts/jquery.js?ver=1821"></script>
<script type="text/javascript" src="{base}/jscripts/general.js?ver=1821"></script>
<link type="text/css" rel="stylesheet" href="{base}/cache/themes/theme1/global.css" />
<link type="text/css" rel="stylesheet" href="{base}/cache/themes/theme1/star_ratings.css" />
<link type="text/css" rel="stylesheet" href="{base}/cache/themes/theme1/thread_status.css" />
<script type="text/javascript">
<!--
	var cookieDomain = ".cambridge-mt.com";
	var rootpath = "{base}";
	var imagepath = "{base}/images";
// -->
</script>
<!-- end: headerinclude -->
</head>
<body>
<!-- start: header -->
<div id="container">
		<a name="top" id="top"></a>
		<div id="header">
			<div id="logo">
				<div class="wrapper">
					<a href="{base}/index.php"><img src="{base}/images/CMTlogo.gif" alt="Discussion Zone" title="Discussion Zone" /></a>
					<ul class="menu top_links">
<li><a href="{base}/portal.php" class="portal">Portal</a></li>
<li><a href="{base}/search.php" class="search">Search</a></li>
<li><a href="{base}/memberlist.php" class="memberlist">Member List</a></li>
						<li><a href="{base}/misc.php?action=help" class="help">Help</a></li>
					</ul>
				</div>
			</div>
			<div id="panel"><div class="upper"><div class="wrapper">
<!-- start: header_welcomeblock_guest -->
<span class="welcome">Hello There, Guest! <a href="{base}/member.php?action=login" class="login">Login</a> <a href="{base}/member.php?action=register" class="register">Register</a></span>
				<div class="modal" id="quick_login" style="display: none;">
					<form method="post" action="{base}/member.php">
						<input name="action" type="hidden" value="do_login" />
						<table width="100%" cellspacing="0" cellpadding="5" border="0" class="tborder">
							<tr>
								<td class="thead" colspan="2"><strong>Login</strong></td>
							</tr>
							<!-- start: header_welcomeblock_guest_login_modal -->
<tr>
	<td class="trow1" width="25%"><strong>Username:</strong></td>
	<td class="trow1"><input name="quick_username" id="quick_login_username" type="text" value="" class="textbox initial_focus" /></td>
</tr>
<tr>
	<td class="trow2"><strong>Password:</strong></td>
	<td class="trow2"><input name="quick_password" id="quick_login_password" type="password" value="" class="textbox" /> <a href="{base}/member.php?action=lostpw" class="lost_password">Lost Password?</a></td>
</tr>
<!-- end: header_welcomeblock_guest_login_modal -->
						</table>
					</form>
				</div>
<!-- end: header_welcomeblock_guest -->
			</div></div></div>
		</div>
		<div id="content">
			<div class="wrapper">
"""


def _nav(base: str, crumbs: list[tuple[str, str]], active: str) -> str:
    bits = [f'<!-- start: nav_bit -->\n<a href="{base}/index.php">Discussion Zone</a><!-- start: nav_sep -->\n&rsaquo;\n'
            "<!-- end: nav_sep -->\n<!-- end: nav_bit -->"]
    for i, (href, name) in enumerate(crumbs):
        sep = "<!-- start: nav_sep -->\n&rsaquo;\n<!-- end: nav_sep -->\n" if i < len(crumbs) - 1 else ""
        bits.append(f'<!-- start: nav_bit -->\n<a href="{href}">{cf_text(name, True)}</a>\n{sep}<!-- end: nav_bit -->')
    return ("<!-- start: nav -->\n\n<div class=\"navigation\">\n" + "".join(bits)
            + f'<!-- start: nav_sep_active -->\n<br /><img src="{base}/images/nav_bit.png" alt="" />\n'
            f"<!-- end: nav_sep_active --><!-- start: nav_bit_active -->\n"
            f'<span class="active">{cf_text(active)}</span>\n<!-- end: nav_bit_active -->\n</div>\n'
            "<!-- end: nav -->\n\t\t\t\t<br />\n<!-- end: header -->\n")


def _foot(base: str, now: int, template: str) -> str:
    return f"""
<!-- start: footer -->
	</div>
</div>
<div id="footer">
	<div class="upper"><div class="wrapper">
			<ul class="menu bottom_links">
<li><a href="showteam.php">Forum Team</a></li>
<li><a href="http://www.cambridge-mt.com/AboutCMT.htm#contact">Contact Us</a></li>
				<li><a href="{base}/archive/index.php">Lite (Archive) Mode</a></li>
			</ul>
	</div></div>
	<div class="lower"><div class="wrapper">
			<span id="current_time"><strong>Current time:</strong> {_d(now)}, {_hm(now)}</span>
			<span id="copyright">Powered By <a href="https://mybb.com" target="_blank" rel="noopener">MyBB</a>, &copy; 2002-2025 <a href="https://mybb.com" target="_blank" rel="noopener">MyBB Group</a>.</span>
	</div></div>
</div>
</div>
<!-- end: footer -->
<script data-cfasync="false" src="/cdn-cgi/scripts/5c5dd728/cloudflare-static/email-decode.min.js"></script></body>
</html>
<!-- end: {template} -->
"""


def _pagination(href: str, page: int, pages: int) -> str:
    """MyBB's multipage(): nothing at all on a single page."""
    if pages <= 1:
        return ""

    def url(k: int) -> str:
        return f"{href}&amp;page={k}"

    parts = ['<div class="pagination">', f'<span class="pages">Pages ({pages}):</span>']
    if page > 1:
        parts.append(f'<a href="{url(page - 1)}" class="pagination_previous">&laquo; Previous</a>')
    for k in range(1, pages + 1):
        if k == page:
            parts.append(f'<span class="pagination_current">{k}</span>')
        elif k == 1:
            parts.append(f'<a href="{href}" class="pagination_first">1</a>')
        elif k == pages:
            parts.append(f'<a href="{url(k)}" class="pagination_last">{k}</a>')
        else:
            parts.append(f'<a href="{url(k)}" class="pagination_page">{k}</a>')
    if page < pages:
        parts.append(f'<a href="{url(page + 1)}" class="pagination_next">Next &raquo;</a>')
    parts.append("</div>")
    return "\n".join(parts)


# --- forum lists --------------------------------------------------------------------


def _forum_row(base: str, fid: int, name: str, threads: list[Thread], bg: str, now: int) -> str:
    posts = sum(len(t.posts) for t in threads)
    if threads:
        last_thread = max(threads, key=lambda t: (t.last.dateline, t.last.pid))
        last = last_thread.last
        subject = last_thread.subject
        short = subject if len(subject) <= 25 else subject[:25] + "..."
        lastpost = (
            '<!-- start: forumbit_depth2_forum_lastpost -->\n<span class="smalltext">\n'
            f'<a href="showthread.php?tid={last_thread.tid}&amp;action=lastpost" title="{_html(subject)}">'
            f"<strong>{cf_text(short, True)}</strong></a>\n"
            f"<br />{mybb_date(last.dateline, now)}<br />by {_profile(base, last.user)}</span>\n"
            "<!-- end: forumbit_depth2_forum_lastpost -->")
        status = "forum_on"
    else:
        lastpost = '<div style="text-align: center;">Never</div>'
        status = "forum_off"
    return f"""<!-- start: forumbit_depth2_forum -->
<tr>
<td class="{bg}" align="center" width="1"><span class="forum_status {status} ajax_mark_read" title="Forum Contains New Posts" id="mark_read_{fid}"></span></td>
<td class="{bg}">
<strong><a href="forumdisplay.php?fid={fid}">{cf_text(name, True)}</a></strong><div class="smalltext"></div>
</td>
<td class="{bg}" align="center" style="white-space: nowrap">{len(threads):,}</td>
<td class="{bg}" align="center" style="white-space: nowrap">{posts:,}</td>
<td class="{bg}" align="right" style="white-space: nowrap">{lastpost}</td>
</tr>
<!-- end: forumbit_depth2_forum -->"""


def _subforums(base: str, title: str, rows: list[tuple[int, str, list[Thread]]], now: int) -> str:
    body = "".join(_forum_row(base, fid, name, threads, "trow1" if i % 2 == 0 else "trow2", now)
                   for i, (fid, name, threads) in enumerate(rows))
    return f"""<!-- start: forumdisplay_subforums -->
<table border="0" cellspacing="0" cellpadding="5" class="tborder">
<tr>
<td class="thead" colspan="5" align="center"><strong>Forums in '{_html(title)}'</strong></td>
</tr>
<tr>
<td class="tcat" width="2%">&nbsp;</td>
<td class="tcat" width="59%"><span class="smalltext"><strong>Forum</strong></span></td>
<td class="tcat" width="7%" align="center" style="white-space: nowrap"><span class="smalltext"><strong>Threads</strong></span></td>
<td class="tcat" width="7%" align="center" style="white-space: nowrap"><span class="smalltext"><strong>Posts</strong></span></td>
<td class="tcat" width="15%" align="center"><span class="smalltext"><strong>Last Post</strong></span></td>
</tr>
{body}
</table>
<br />
<!-- end: forumdisplay_subforums -->"""


def _sort_key(name: str) -> str:
    return re.sub(r"^the\s+", "", name.lower())


def _thread_row(base: str, forum: SongForum, thread: Thread, bg: str, now: int, lastvisit: int | None) -> str:
    # MyBB 1.8 (forumdisplay.php): every cell of a row carries the thread type.
    cls = bg + (" forumdisplay_sticky" if thread.sticky else " forumdisplay_regular")
    is_new = lastvisit is None or thread.last.dateline > lastvisit
    folder = ("new" if is_new else "") + ("hot" if len(thread.posts) >= 15 else "") + "folder"
    subject_class = "subject_new" if is_new else "subject_old"
    pages = (len(thread.posts) + POSTS_PER_PAGE - 1) // POSTS_PER_PAGE
    multipage = ""
    if pages > 1:
        links = " ".join(f'<a href="showthread.php?tid={thread.tid}' + (f'&amp;page={k}"' if k > 1 else '"')
                         + f">{k}</a>" for k in range(1, pages + 1))
        multipage = f' <!-- start: forumdisplay_thread_multipage --><span class="smalltext">(Pages: {links})</span>' \
                    "<!-- end: forumdisplay_thread_multipage -->"
    attachments = sum(len(p.attachments) for p in thread.posts)
    clip = ""
    if attachments:
        clip = (f'<div class="float_right"><img src="{base}/images/paperclip.png" alt="" title="This thread '
                f'contains {attachments} attachment{"s" if attachments != 1 else ""}." /></div>')
    subject = (f'<span class=" {subject_class}" id="tid_{thread.tid}"><a href="showthread.php?tid={thread.tid}">'
               f"{cf_text(thread.subject, True)}</a></span>")
    if forum.markup == "2024":
        author = f'<div class="author smalltext">{_profile(base, thread.user)}</div>'
    else:
        author = (f'<div><span class="author smalltext">{_profile(base, thread.user)}, </span>'
                  f'<span class="thread_start_datetime smalltext">{mybb_date(thread.started, now)}</span></div>')
    width = int(thread.rating * 20) if thread.votes else 0
    rating = f"{thread.votes} Vote(s) - {thread.rating:g} out of 5 in Average" if thread.votes else \
        "0 Vote(s) - 0 out of 5 in Average"
    last = thread.last
    # The whoposted link keeps a bare "&", as in MyBB's template and the reference (§2.3).
    return f"""<!-- start: forumdisplay_thread -->
<tr class="inline_row">
	<td align="center" class="{cls}" width="2%"><span class="thread_status {folder}" title="{"New posts" if is_new else "No new posts"}">&nbsp;</span></td>
	<td align="center" class="{cls}" width="2%">&nbsp;</td>
	<td class="{cls}">
		{clip}
		<div>
			<span>{"<strong>Sticky:</strong> " if thread.sticky else ""}{subject}{multipage}</span>
			{author}
		</div>
	</td>
	<td align="center" class="{cls}"><a href="{base}/misc.php?action=whoposted&tid={thread.tid}" onclick="MyBB.whoPosted({thread.tid}); return false;">{len(thread.posts) - 1:,}</a></td>
	<td align="center" class="{cls}">{thread.views:,}</td>
	<td align="center" class="{cls}" id="rating_table_{thread.tid}">
		<ul class="star_rating" id="rating_thread_{thread.tid}">
			<li style="width: {width}%" class="current_rating" id="current_rating_{thread.tid}">{rating}</li>
		</ul>
		<script type="text/javascript">
		<!--
			Rating.build_forumdisplay({thread.tid}, {{ width: '{width}', extra_class: '', current_average: '{rating}' }});
		// -->
		</script>
	</td>
	<td class="{cls}" style="white-space: nowrap; text-align: right;">
		<span class="lastpost smalltext">{mybb_date(last.dateline, now)}<br />
		<a href="showthread.php?tid={thread.tid}&amp;action=lastpost">Last Post</a>: {_profile(base, last.user)}</span>
	</td>
</tr>
<!-- end: forumdisplay_thread -->"""


def _thread_list(base: str, forum: SongForum, page: int, now: int, lastvisit: int | None) -> tuple[str, int]:
    ordered = forum.ordered_threads()
    pages = max(1, (len(ordered) + THREADS_PER_PAGE - 1) // THREADS_PER_PAGE)
    shown = ordered[(page - 1) * THREADS_PER_PAGE: page * THREADS_PER_PAGE]
    rows = []
    sticky_shown = [t for t in shown if t.sticky]
    if sticky_shown:
        rows.append('<tr><td class="trow_sep" colspan="7">Important Threads</td></tr>')
    for i, thread in enumerate(shown):
        if sticky_shown and not thread.sticky and (i == 0 or shown[i - 1].sticky):
            rows.append('<tr><td class="trow_sep" colspan="7">Normal Threads</td></tr>')
        rows.append(_thread_row(base, forum, thread, "trow1" if i % 2 == 0 else "trow2", now, lastvisit))
    if not shown:
        rows.append('<!-- start: forumdisplay_nothreads -->\n<tr>\n<td colspan="7" class="trow1">Sorry, but there '
                    "are currently no threads in this forum with the specified date and time limiting options."
                    "</td>\n</tr>\n<!-- end: forumdisplay_nothreads -->")
    pagination = _pagination(f"forumdisplay.php?fid={forum.fid}", page, pages)
    html = f"""<!-- start: forumdisplay_threadlist -->
<div class="float_left">
	{pagination}
</div>
<div class="float_right">
	<a href="newthread.php?fid={forum.fid}" class="button new_thread_button"><span>Post Thread</span></a>
</div>
<table border="0" cellspacing="0" cellpadding="5" class="tborder clear">
	<tr>
		<td class="thead" colspan="7">
			<div class="float_right"><span class="smalltext"><strong><a href="misc.php?action=markread&amp;fid={forum.fid}">Mark this forum read</a></strong></span></div>
			<div><strong>{cf_text(forum.name)}</strong></div>
		</td>
	</tr>
	<tr>
		<td class="tcat" colspan="3" width="66%"><span class="smalltext"><strong><a href="forumdisplay.php?fid={forum.fid}&amp;datecut=9999&amp;prefix=0&amp;sortby=subject&amp;order=asc">Thread</a> / <a href="forumdisplay.php?fid={forum.fid}&amp;datecut=9999&amp;prefix=0&amp;sortby=starter&amp;order=asc">Author</a></strong></span></td>
		<td class="tcat" align="center" width="7%"><span class="smalltext"><strong><a href="forumdisplay.php?fid={forum.fid}&amp;datecut=9999&amp;prefix=0&amp;sortby=replies&amp;order=desc">Replies</a></strong></span></td>
		<td class="tcat" align="center" width="7%"><span class="smalltext"><strong><a href="forumdisplay.php?fid={forum.fid}&amp;datecut=9999&amp;prefix=0&amp;sortby=views&amp;order=desc">Views</a></strong></span></td>
		<td class="tcat" align="center" width="80"><span class="smalltext"><strong><a href="forumdisplay.php?fid={forum.fid}&amp;datecut=9999&amp;prefix=0&amp;sortby=rating&amp;order=desc">Rating</a></strong></span></td>
		<td class="tcat" align="right" width="20%"><span class="smalltext"><strong><a href="forumdisplay.php?fid={forum.fid}&amp;datecut=9999&amp;prefix=0&amp;sortby=lastpost&amp;order=desc">Last Post</a></strong></span></td>
	</tr>
	{"".join(rows)}
</table>
<div class="float_left">
	{pagination}
</div>
<br class="clear" />
<!-- end: forumdisplay_threadlist -->"""
    return html, pages


def render_index(forum: Forum, now: int) -> str:
    base = forum.base
    rows = [(g.fid, g.name, [t for sf in g.forums for t in sf.threads]) for g in forum.root]
    return (_head(base, "Discussion Zone", "index") + _nav(base, [], "Discussion Zone")
            + _subforums(base, ROOT_NAME, rows, now) + _foot(base, now, "index"))


def render_forum(forum: Forum, fid: int, page: int, now: int, lastvisit: int | None) -> str | None:
    """``forumdisplay.php?fid=…&page=…``, or None for an unknown forum."""
    base = forum.base
    if fid == ROOT_FID:
        rows = [(g.fid, g.name, [t for sf in g.forums for t in sf.threads]) for g in forum.root]
        return (_head(base, f"Discussion Zone - {ROOT_NAME} ", "forumdisplay") + _nav(base, [], ROOT_NAME)
                + _subforums(base, ROOT_NAME, rows, now) + _foot(base, now, "forumdisplay"))
    genre: GenreForum | None = next((g for g in forum.root if g.fid == fid), None)
    if genre is not None:
        rows = [(sf.fid, sf.name, sf.threads) for sf in sorted(genre.forums, key=lambda sf: _sort_key(sf.name))]
        return (_head(base, f"Discussion Zone - {genre.name} ", "forumdisplay")
                + _nav(base, [(f"forumdisplay.php?fid={ROOT_FID}", ROOT_NAME)], genre.name)
                + _subforums(base, genre.name, rows, now) + _foot(base, now, "forumdisplay"))
    song = forum.song_forums.get(fid)
    if song is None:
        return None
    genre = next(g for g in forum.root if g.fid == song.genre_fid)
    threadlist, _pages = _thread_list(base, song, page, now, lastvisit)
    return (_head(base, f"Discussion Zone - {song.name} ", "forumdisplay")
            + _nav(base, [(f"forumdisplay.php?fid={ROOT_FID}", ROOT_NAME),
                          (f"forumdisplay.php?fid={genre.fid}", genre.name)], song.name)
            + threadlist + _foot(base, now, "forumdisplay"))


# --- threads --------------------------------------------------------------------------


def _segments(library: Library, line: list[Segment]) -> str:
    out = []
    for seg in line:
        if seg.kind == "link" and seg.url:
            url = library.url(seg.url) if seg.url.split("/")[2].endswith(".example.net") else seg.url
            out.append(f'<a href="{_html(url or "")}" target="_blank" rel="noopener" class="mycode_url">'
                       f"{cf_text(seg.text, True)}</a>")
        else:
            out.append(cf_text(seg.text))
    return "".join(out)


def _message(library: Library, post: Post) -> str:
    parts = []
    if post.quote is not None:
        who, lines = post.quote
        quoted = "<br />\n".join(_segments(library, line) for line in lines)
        parts.append(f'<blockquote class="mycode_quote"><cite>{cf_text(who.name)} Wrote:</cite>{quoted}</blockquote>')
    parts.append("<br />\n".join(_segments(library, line) for line in post.lines))
    return "".join(parts)


def _attachment(base: str, att: Attachment, dateline: int) -> str:
    """One line of the ``Attached Files`` fieldset, in the two shapes of
    cambridge-mt.md §2.4 and nothing else.

    * ``player`` (Cambridge's customised template for MP3 attachments): the file
      name between ``&nbsp;&nbsp;`` and ``&nbsp;--&nbsp;``, then the ``<a>`` whose
      text is ``(Download: N MB)`` (issue 9 quotes it with the brackets inside
      the link: the stricter reading, a link text that holds a "." like a file
      name), then the ``<audio>`` player with its absolute ``<source src>``.
      Where the player sits is not documented (reference: "exact order [I]"):
      here after the link.  Attributes beyond ``href``/``src`` are not shown by
      the reference, so there are none, and no "Downloads" count.
    * ``stock``: MyBB 1.8's postbit_attachments_attachment, verbatim.

    Both start with MyBB's ``<br />{icon}&nbsp;&nbsp;`` (the template the
    reference cites)."""
    ext = att.filename.rsplit(".", 1)[-1].lower()
    icon = (f'<!-- start: attachment_icon --><img src="{base}/images/attachtypes/{"audio" if ext in ("mp3", "wav") else ext}.png" '
            f'title="{ext.upper()} File" border="0" alt=".{ext}" /><!-- end: attachment_icon -->')
    name = _html(att.filename)
    if att.style == "player":
        return ("<!-- start: postbit_attachments_attachment -->\n<br />"
                f'{icon}&nbsp;&nbsp;{name}&nbsp;--&nbsp;<a href="attachment.php?aid={att.aid}">(Download: {att.size_text})</a>\n'
                f'<audio controls="controls"><source src="{base}/attachment.php?aid={att.aid}" /></audio>'
                "\n<!-- end: postbit_attachments_attachment -->")
    return ("<!-- start: postbit_attachments_attachment -->\n<br />"
            f'{icon}&nbsp;&nbsp;<a href="attachment.php?aid={att.aid}" target="_blank" '
            f'title="{_d(dateline)}, {_hm(dateline)}">{name}</a> (Size: {att.size_text} / Downloads: {att.downloads:,})'
            "\n<!-- end: postbit_attachments_attachment -->")


def _postbit(base: str, library: Library, thread: Thread, post: Post, number: int, now: int) -> str:
    user = post.user
    edit = ""
    if post.edited:
        edit = (f'<span class="edited_post">(This post was last modified: {mybb_date(min(now, post.dateline + 3600), now)}'
                f" by {_profile(base, user)}.)</span>")
    attachments = ""
    if post.attachments:
        # MyBB 1.8's postbit_attachments (thumbnail and image lists empty).
        listed = "".join(_attachment(base, a, post.dateline) for a in post.attachments)
        attachments = ('<!-- start: postbit_attachments -->\n<br />\n<br />\n<fieldset>\n<legend><strong>Attached Files'
                       f"</strong></legend>\n\n\n{listed}\n</fieldset>\n<!-- end: postbit_attachments -->")
    return f"""<!-- start: postbit -->
<a name="pid{post.pid}" id="pid{post.pid}"></a>
<div class="post " style="" id="post_{post.pid}">
<div class="post_author">
	<!-- start: postbit_avatar -->
<div class="author_avatar"><a href="{base}/member.php?action=profile&amp;uid={user.uid}"><img src="{base}/images/default_avatar.png" alt="" width="55" height="55" /></a></div>
<!-- end: postbit_avatar -->
	<div class="author_information">
			<strong><span class="largetext">{_profile(base, user)}</span></strong> <!-- start: postbit_offline -->
<img src="{base}/images/buddy_offline.png" title="Offline" alt="Offline" class="buddy_status" />
<!-- end: postbit_offline --><br />
			<span class="smalltext">
				{"Administrator" if user.uid == 1 else "Junior Member"}<br />
				<img src="images/star.png" border="0" alt="*" /><img src="images/star.png" border="0" alt="*" />
			</span>
	</div>
	<div class="author_statistics">
		<!-- start: postbit_author_user -->
	Posts: {(user.uid * 7) % 900 + 1:,}<br />
	Threads: {(user.uid * 3) % 90 + 1}<br />
	Joined: Mar 2019
	<!-- start: postbit_reputation --><br />Reputation: 0<!-- end: postbit_reputation -->
<!-- end: postbit_author_user -->
	</div>
</div>
<div class="post_content">
	<div class="post_head">
		<!-- start: postbit_posturl -->
<div class="float_right" style="vertical-align: top">
<strong><a href="showthread.php?tid={thread.tid}&amp;pid={post.pid}#pid{post.pid}" title="{_html(thread.subject)}">#{number}</a></strong>
</div>
<!-- end: postbit_posturl -->
		<span class="post_date">{mybb_date(post.dateline, now)} <span class="post_edit" id="edited_by_{post.pid}">{edit}</span></span>
	</div>
	<div class="post_body scaleimages" id="pid_{post.pid}">
		{_message(library, post)}
	</div>
	{attachments}
	<div class="post_meta" id="post_meta_{post.pid}">
	</div>
</div>
<div class="post_controls">
	<div class="postbit_buttons author_buttons float_left">
		<a href="search.php?action=finduser&amp;uid={user.uid}" title="Find all posts by this user" class="postbit_find"><span>Find</span></a>
	</div>
	<div class="postbit_buttons post_management_buttons float_right">
		<a href="newreply.php?tid={thread.tid}&amp;replyto={post.pid}" title="Quote this message in a reply" class="postbit_quote postbit_mirage"><span>Reply</span></a>
	</div>
</div>
</div>
<!-- end: postbit -->"""


def render_thread(forum: Forum, library: Library, tid: int, page: int, now: int) -> str | None:
    """``showthread.php?tid=…&page=…`` (10 posts a page), or None."""
    thread = forum.threads.get(tid)
    if thread is None:
        return None
    base = forum.base
    song = forum.song_forums[thread.fid]
    genre = next(g for g in forum.root if g.fid == song.genre_fid)
    posts = sorted(thread.posts, key=lambda p: (p.dateline, p.pid))
    pages = max(1, (len(posts) + POSTS_PER_PAGE - 1) // POSTS_PER_PAGE)
    page = min(max(page, 1), pages)
    first = (page - 1) * POSTS_PER_PAGE
    shown = posts[first: first + POSTS_PER_PAGE]
    pagination = _pagination(f"showthread.php?tid={tid}", page, pages)
    postbits = "\n".join(_postbit(base, library, thread, p, first + i + 1, now) for i, p in enumerate(shown))
    if forum.config.changed_post_markup:  # the schema-drift test switch (ForumConfig)
        postbits = postbits.replace('<div class="author_information">', '<div class="postbit_author_card">')
    body = f"""
<!-- start: showthread -->
<div class="float_left">
	{pagination}
</div>
<table border="0" cellspacing="0" cellpadding="5" class="tborder tfixed clear">
	<tr>
		<td class="thead">
			<div class="float_left">
				<strong>{cf_text(thread.subject)}</strong>
			</div>
		</td>
	</tr>
<tr><td id="posts_container">
	<div id="posts">
		{postbits}
	</div>
</td></tr>
</table>
<div class="float_left">
	{pagination}
</div>
<!-- end: showthread -->
"""
    return (_head(base, thread.subject, "showthread")
            + _nav(base, [(f"forumdisplay.php?fid={ROOT_FID}", ROOT_NAME),
                          (f"forumdisplay.php?fid={genre.fid}", genre.name),
                          (f"forumdisplay.php?fid={song.fid}", song.name)], thread.subject)
            + body + _foot(base, now, "showthread"))
