"""HTML: the page's main content as blocks (headings with their path, paragraphs, code, lists,
tables, captions). Block elements break lines; inline elements never break a sentence."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import tinycss2

from rag.loaders.base import (
    Budget,
    DocumentBuilder,
    LoadedDocument,
    UnreadableFile,
    collapse,
    item_number,
)

# HTML elements that start a new block (a paragraph break) or a new line; every other element is
# inline (a, b, i, em, strong, span, code, ...) and must not break the sentence it is in.
_PARAGRAPH_TAGS = frozenset(
    {"address", "article", "aside", "blockquote", "body", "center", "dialog", "div", "dl",
     "fieldset", "figure", "footer", "form", "header", "hgroup", "hr", "html", "main", "menu",
     "nav", "ol", "p", "section", "table", "title", "ul", "dir"}
)  # fmt: skip
_LINE_TAGS = frozenset(
    {"br", "caption", "dd", "details", "dt", "figcaption", "legend", "li", "option", "summary",
     "tbody", "td", "tfoot", "th", "thead", "tr"}
)  # fmt: skip
_SKIPPED_TAGS = frozenset(
    {"script", "style", "noscript", "template", "head", "meta", "link", "iframe", "object", "svg",
     "button", "input", "select"}
)  # fmt: skip
_PRESERVE_TAGS = frozenset(("pre", "textarea", "listing", "plaintext"))
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_LISTS = frozenset(("ul", "ol", "dl", "menu", "dir"))
_CAPTIONS = frozenset(("figcaption", "caption"))
_CELLS = ("td", "th")
_ROW_PARTS = ("caption", "tr")
_ANCHOR_MARKS = frozenset("#¶§🔗◆")  # ◆: Doxygen's
_REFRESH = re.compile(r"url\s*=\s*['\"]?([^'\";]+)", re.IGNORECASE)
# A page with no more words than this besides its links' is a redirect stub if it has a link.
_STUB_WORDS = 12
# The words of a navigation bar besides its links' (texinfo's "Next: a, Up: b [Contents]",
# DocBook's "Prev | Up | Next", a "« Back | Home" line): a block of at least two links whose
# other words are only these is chrome, whatever the generator calls it.
_NAVIGATION = frozenset(
    {"next", "previous", "prev", "up", "top", "home", "contents", "index", "back", "forward"}
)
_NAVIGATION_WORDS = _NAVIGATION | {"table", "of", "go", "to"}
# A link whose every word is one of these, one of them a navigation word, says where it goes.
_LINK_NAVIGATION_WORDS = _NAVIGATION_WORDS | {"page", "chapter", "section", "topic", "the"}
# A block of at least this many links with nothing between them but these characters, each
# link named in plain words, is a menu or a trail ("Modules | Directives | FAQ", "Apache > HTTP
# Server > Documentation"), also without a word that says where one goes. Links named like
# code ("<stream.Readable> | <null>", a property's types in Node.js's reference) are content.
_MENU_LINKS = 3
_MENU_SEPARATORS = frozenset("|>»›/·•–—")
_CODE_MARKS = re.compile(r"[<>{}\[\]()`=\"*$@#]")
# A row of links to the page in other languages ("Available Languages: en | fr | ja").
_LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(?:[-_][a-z]{2,4})?", re.IGNORECASE)
_LANGUAGE_WORDS = frozenset({"language", "languages", "translation", "translations"})
# The only words a bar has outside its links.
_BAR_WORDS = _NAVIGATION_WORDS | _LANGUAGE_WORDS | {"available"}
_WORDS = re.compile(r"\w+")
_NUMBERING = re.compile(r"[\W\d_]*")  # what a contents entry has besides its link: "3.1."
_NAMING = re.compile(r"\w*[^\W\d_]\w*")  # a word with a letter: not a contents entry's number
# A page with at least this share of its words in links is an index or a table of contents.
LINK_PAGE_SHARE = 0.8
# A table of more rows than this is data, whatever its columns (a layout frame has a few).
_LAYOUT_ROWS = 20
# The labels of a note's box (AsciiDoc's five, and the other reStructuredText admonitions').
_ADMONITIONS = frozenset(
    ("note", "tip", "hint", "important", "warning", "caution", "attention", "danger")
)
_LABEL_NODES = 5
# DocBook's questions and answers (a <qandaset>: a FAQ) are a table whose every row says what
# it is; a question is read as a term, the heading of the answer below it.
_QUESTION, _ANSWER = "question", "answer"
_QANDA_ROWS = frozenset({_QUESTION, _ANSWER, "qandadiv"})
_QANDA_SETS = frozenset({"qandaset", "qandadiv"})
_BAR_CHARS = 200  # text outside links longer than this is no navigation bar


def load_html(html: str, budget: Budget | None = None) -> LoadedDocument:
    """The main content of a page as a structured document; redirect stubs are refused.

    ``budget`` (default: 60 s, 200,000 elements) bounds the time and the tree's size: a page
    past either is refused (``UnreadableFile``) as soon as it is seen, not after it is read."""
    budget = budget or Budget()
    soup = parse(html, budget)
    for title in soup.select(_TITLES):
        title.name = "h1"
    _refuse_unindexed(soup)
    _refuse_redirect(soup, soup.body or soup)
    budget.check()
    root = main_content(soup, budget)
    _refuse_redirect(soup, root)  # chrome around a page that only says where it moved
    _refuse_link_page(root)
    budget.check()
    builder = DocumentBuilder()
    lead = _title_before(root)
    page_title = _page_title(soup)
    if lead is not None:
        walk(lead, builder, budget)
    elif page_title and root.find(list(_HEADINGS)) is None:
        # No heading of its own (SQLite's C reference names the page only in its chrome): the
        # page's <title> heads its text, so its chunks' section path names the page.
        builder.heading(1, page_title)
    walk(root, builder, budget)
    document = builder.build()
    if page_title and not document.title:
        document = LoadedDocument(document.text, title=page_title, blocks=document.blocks)
    return document


def _page_title(soup: Any) -> str:
    """The words of the page's ``<title>``, or "" if it has none."""
    title = soup.find("title")
    return collapse(title.get_text()) if title is not None else ""


def parse(html: str, budget: Budget | None = None) -> Any:
    """The page's tree, by lxml (several times faster than Python's parser on large pages);
    with a ``budget``, parsing stops as soon as it is spent."""
    from bs4 import BeautifulSoup

    # An XHTML page's XML declaration makes bs4 warn that it parses XML as HTML, and a process
    # that turns warnings into errors (``-W error``, pytest) would lose the page: the filter
    # below is global and can be reset. The declaration only names the encoding of bytes
    # already decoded: dropped, the page gives bs4 nothing to warn about.
    html = _XML_DECLARATION.sub("", html, count=1)
    _quiet_about_xhtml()
    if budget is None:
        return BeautifulSoup(html, "lxml")
    builder = _bounded_builder()()
    builder.budget = budget
    return BeautifulSoup(html, builder=builder)


_XML_DECLARATION = re.compile(r"\A\s*<\?xml\b[^>]*\?>")


@cache
def _quiet_about_xhtml() -> None:
    """XHTML pages (DocBook's, many generated manuals') open with ``<?xml ...?>``, and bs4 then
    printed a twelve-line warning into every ``rag ingest`` that read one, advising an XML
    parser. They are HTML, read as HTML on purpose: the warning says nothing to a user."""
    import warnings

    from bs4 import XMLParsedAsHTMLWarning

    warnings.filterwarnings("ignore", category=XMLParsedAsHTMLWarning)


@cache
def _bounded_builder() -> Any:
    """bs4's lxml tree builder, counting elements against a ``Budget`` as lxml reports them
    (an exception raised here stops lxml's parser at once)."""
    from bs4.builder._lxml import LXMLTreeBuilder

    class BoundedBuilder(LXMLTreeBuilder):  # type: ignore[misc]
        budget: Budget

        def start(self, *args: Any, **kwargs: Any) -> None:
            self.budget.element()
            super().start(*args, **kwargs)

    return BoundedBuilder


def html_to_text(html: str) -> str:
    """The text a browser shows of the whole page: block elements break lines, inline ones do
    not; runs of white space collapse to one space (except in ``<pre>``)."""
    budget = Budget()
    builder = DocumentBuilder()
    walk(parse(html, budget), builder, budget)
    return builder.build().text


def main_content(soup: Any, budget: Budget | None = None) -> Any:
    """The element holding the page's own text, without navigation and other chrome."""
    root = soup.body or soup
    tags = soup.find_all(True)
    anchors = {_attr(tag, key) for tag in tags for key in ("id", "name") if tag.has_attr(key)}
    for test in _MAIN:
        if budget is not None:
            budget.check()
        found = [tag for tag in tags if test(tag)]
        if len(found) == 1 and found[0].get_text(strip=True):
            root = found[0]
            break
    else:
        for tag in root.find_all(("header", "footer")):
            tag.decompose()
    if budget is not None:
        budget.check()
    drop(root, _is_chrome)
    if budget is not None:
        budget.check()
    drop(root, lambda tag: tag.name in _LISTS and _questions_listed(tag, anchors))
    _drop_page_contents(root, budget)
    return root


# A page's own table of contents: at least this many links, each to one of the page's headings,
# with nothing else but numbering and these words ("► Table Of Contents", "On this page").
_CONTENTS_LINKS = 3
_CONTENTS_WORDS = _NAVIGATION_WORDS | {"on", "this", "page", "in", "article", "section",
                                       "sections", "jump", "show", "hide", "toc"}  # fmt: skip


@dataclass
class _Tally:
    """What an element holds, for ``_drop_page_contents``: its links to the page's headings,
    its other links, and whether its words outside links are only numbering and
    ``_CONTENTS_WORDS`` (no heading, no code)."""

    links: int = 0
    others: int = 0
    plain: bool = True


def _drop_page_contents(root: Any, budget: Budget | None = None) -> None:
    """Remove the page's own table of contents (SQLite's "► Table Of Contents", Sphinx's
    ``contents`` directive): a block of links to the page's headings and nothing else says
    each heading a second time, so a question about a section found the list, not the section.

    One walk of the tree, each element judged from its children's tallies, within ``budget``:
    a page of many nested elements costs no walk of a subtree per element."""
    from bs4 import Tag
    from bs4.element import Comment, NavigableString

    fragments = {_fragment(a) for a in root.find_all("a", href=True)} - {""}
    if len(fragments) < _CONTENTS_LINKS:
        return
    targets = _heading_anchors(root, fragments, budget)
    if len(targets) < _CONTENTS_LINKS:
        return
    tallies: dict[int, _Tally] = {}
    found: set[int] = set()
    # (element, its children tallied already, inside a link: its words are the link's)
    stack: list[tuple[Any, bool, bool]] = [(root, False, False)]
    steps = 0
    while stack:
        steps += 1
        _check_every(budget, steps)
        node, closing, inside = stack.pop()
        link = node.name == "a" and node.has_attr("href")
        if not closing:
            stack.append((node, True, inside))
            linked = inside or link
            stack.extend((c, False, linked) for c in reversed(node.contents) if isinstance(c, Tag))
            continue
        children = [tallies.pop(id(c)) for c in node.contents if isinstance(c, Tag)]
        if node.name in _SKIPPED_TAGS:
            tallies[id(node)] = _Tally()
            continue
        tally = _Tally(plain=node.name not in _PRESERVE_TAGS and node.name not in _HEADINGS)
        if link:
            tally.links, tally.others = (1, 0) if _fragment(node) in targets else (0, 1)
        for below in children:
            tally.links += below.links
            tally.others += below.others
            tally.plain = tally.plain and below.plain
        for child in node.contents:
            words = not (link or inside) and isinstance(child, NavigableString)
            if words and not isinstance(child, Comment):
                tally.plain = tally.plain and all(
                    w.isdigit() or w.lower() in _CONTENTS_WORDS for w in _WORDS.findall(child)
                )
        tallies[id(node)] = tally
        if node is not root and tally.plain and not tally.others and tally.links >= _CONTENTS_LINKS:
            found.add(id(node))
    # Outermost first: a table of contents inside one removed already goes with it.
    outer: list[Any] = [root]
    while outer:
        node = outer.pop()
        if id(node) in found:
            node.decompose()
        else:
            outer.extend(c for c in node.contents if isinstance(c, Tag))


def _first_element(tag: Any) -> Any:
    """The first element among ``tag``'s children, or None. Not ``tag.find(True)``: bs4 walks
    to the end of the subtree before it returns the first match."""
    from bs4 import Tag

    return next((c for c in tag.contents if isinstance(c, Tag)), None)


def _fragment(link: Any) -> str:
    """The place on this page a link goes to ("#boolean_datatype"), or "" for another page."""
    href = str(link.get("href", ""))
    return href[1:] if href.startswith("#") else ""


def _heading_anchors(root: Any, fragments: set[str], budget: Budget | None = None) -> set[str]:
    """Of the places links go to (``fragments``), those that mark a heading: a heading's own
    id, its section's (a heading first inside it), or an empty anchor's right before or inside
    one. Each is looked at once, by its nearest elements only."""
    from bs4.element import NavigableString

    anchors: set[str] = set()
    for steps, tag in enumerate(root.find_all(True)):
        _check_every(budget, steps)
        key = _attr(tag, "id") or _attr(tag, "name")
        if key not in fragments:
            continue
        if tag.name in _HEADINGS or (tag.parent is not None and tag.parent.name in _HEADINGS):
            anchors.add(key)
            continue
        first = _first_element(tag)
        if first is not None and first.name in _HEADINGS:
            anchors.add(key)
            continue
        empty = all(isinstance(c, NavigableString) and not c.strip() for c in tag.contents)
        after = tag.find_next_sibling(True) if empty else None
        if after is not None and after.name in _HEADINGS:
            anchors.add(key)
    return anchors


def _check_every(budget: Budget | None, steps: int) -> None:
    """A walk's deadline check, every 1,024 steps (a clock read per element would cost more
    than the walk)."""
    if budget is not None and steps % 1024 == 0:
        budget.check()


def drop(root: Any, test: Callable[[Any], bool]) -> None:
    """Remove every element below ``root`` that ``test`` accepts (with what it holds: an
    element inside one removed already is passed over)."""
    for tag in root.find_all(test):
        if not tag.decomposed:
            tag.decompose()


# At most this many words beside the main element hold its title (AsciiDoc's header: the title,
# a manual page's NAME line, an author and a version); more is a sidebar or a banner.
_TITLE_WORDS = 60


def _title_before(root: Any) -> Any:
    """The element right before the main one that holds the page's title, when the main one
    has none: AsciiDoc (asciidoc and Asciidoctor) writes the <h1> and a manual page's NAME line
    in ``#header``, the rest in ``#content``. Not a navigation bar, nor a site's name (a title
    that is only a link), nor more than ``_TITLE_WORDS`` words once its chrome is left out."""
    if root.name in ("body", "html", "[document]") or root.find("h1") is not None:
        return None
    lead = root.find_previous_sibling(True)
    title = lead.find("h1") if lead is not None else None
    if title is None or lead.name == "nav" or _is_chrome(lead) or lead.find("nav"):
        return None
    links = title.find_all("a", href=True)
    if links and "".join(a.get_text() for a in links).strip() == title.get_text().strip():
        return None
    drop(lead, _is_chrome)
    return lead if len(lead.get_text().split()) <= _TITLE_WORDS else None


def _questions_listed(tag: Any, anchors: set[str]) -> bool:
    """Whether a list is the contents of a FAQ (a DocBook ``qandaset`` or ``qandadiv``): two
    items or more, each only links to places on the page (``anchors``: its ids and names) and
    maybe a number ("3.1."). DocBook lists the questions so above their answers; indexed, the
    list would be found for every question it holds and answer none. (Lists of links elsewhere
    are content as often as not: Node.js's "one of: assert.equal(), assert.deepEqual()".)"""
    if tag.parent is None or not _QANDA_SETS.intersection(_classes(tag.parent)):
        return False
    items = tag.find_all(("li", "dt", "dd"), recursive=False)
    if len(items) < 2:
        return False
    for item in items:
        links = item.find_all("a", href=True)
        if not links or any(str(a["href"]).partition("#")[2] not in anchors for a in links):
            return False
        outside = "".join(s for s in item.find_all(string=True) if s.find_parent("a") is None)
        if not _NUMBERING.fullmatch(outside):
            return False
    return True


def _attr(tag: Any, name: str) -> str:
    value = tag.get(name)
    return " ".join(value) if isinstance(value, list) else str(value or "")


def _classes(tag: Any) -> list[str]:
    value = tag.get("class")
    return list(value) if isinstance(value, list) else str(value or "").split()


# Where a page keeps its main content, most specific first; chrome around it is dropped.
_MAIN: tuple[Callable[[Any], bool], ...] = (
    lambda tag: _attr(tag, "role").lower() == "main",
    lambda tag: tag.name == "main",
    lambda tag: tag.name == "article",
    lambda tag: _attr(tag, "id") in ("content", "main", "main-content"),
    lambda tag: "content" in _classes(tag),
)
_CHROME_ROLES = frozenset({"navigation", "search"})
# Doxygen's: its project banner ("titlearea"), tabs ("main-nav") and trail ("nav-path").
_CHROME_IDS = frozenset(
    {"toc", "table-of-contents", "sidebar", "titlearea", "main-nav", "nav-path"}
)
_CHROME_CLASSES = frozenset(
    {"toc", "headerlink", "sidebar", "sphinxsidebar", "related", "breadcrumb", "breadcrumbs",
     "nav-panel", "navheader", "navfooter", "nav-wrapper", "nav-chapters", "menu-bar",
     "viewcode-link", "linenos", "lineno", "linenodiv", "navpath", "footer",
     "method-click-advice", "nosearch", "robots-nocontent"}
)  # fmt: skip
# What a page marks as not for a search index or its snippets (Google's ``data-nosnippet``,
# Pagefind's ``data-pagefind-ignore``; above, SQLite's class "nosearch" and Yahoo's
# "robots-nocontent" around its banner and menus): a citation is a snippet.
_NOT_FOR_SEARCH = ("data-nosnippet", "data-pagefind-ignore")
# Doxygen writes a page's title as <div class="title"> in <div class="headertitle">.
_TITLES = "div.headertitle > div.title"


def _is_chrome(tag: Any) -> bool:
    """Page chrome inside the main content: navigation, search, tables of contents, hidden parts
    (the ``hidden`` attribute, ``aria-hidden``, an inline style that hides), what the page marks
    as not for search."""
    return bool(
        tag.name == "nav"
        or _attr(tag, "role").lower() in _CHROME_ROLES
        or hidden(tag)
        or _attr(tag, "id").lower() in _CHROME_IDS
        or (
            _CHROME_CLASSES.intersection(_classes(tag))
            and not _authors_sidebar(tag)
            and not _unlinked_toc(tag)
        )
        or any(tag.has_attr(name) for name in _NOT_FOR_SEARCH)
        or _self_link(tag)  # "#", "¶"
        or _navigation_table(tag)
    )


# A list of class "toc" whose links hold less than this share of its words (words with a
# letter: a contents entry's number is no word) is no table of contents but content with a
# cross-reference or two. A table of contents is links, even a chapter's short one under its
# title ("Table of Contents", then one entry: half its words). A product choice.
TOC_LINK_SHARE = 0.2


def _navigation_table(tag: Any) -> bool:
    """A table of navigation links and punctuation alone: texi2html's bars above and below
    each section ("[ << ] [ < ] [ Up ] [ > ] [ >> ] [Top] [Contents] [Index] [ ? ]"). Each
    link is named by arrows or words that say where it goes (``_LINK_NAVIGATION_WORDS``);
    a table of links to the documents' topics (SQLite's index of its SQL statements) or with
    words of its own is content."""
    if tag.name != "table":
        return False
    links = tag.find_all("a", href=True)
    if len(links) < 2:
        return False
    for link in links:
        named = {word.lower() for word in _WORDS.findall(link.get_text(" "))}
        if not named <= _LINK_NAVIGATION_WORDS:
            return False
    outside = (text for text in tag.find_all(string=True) if text.find_parent("a") is None)
    return not any(_WORDS.search(text) for text in outside)


def _unlinked_toc(tag: Any) -> bool:
    """Whether a list of class "toc" is no table of contents (``TOC_LINK_SHARE``): texi2html
    writes every ``@itemize`` without bullets as ``<ul class="toc">`` (GNU gettext's manual:
    the default keywords of each language, a list of features). An element with the id "toc"
    is a page's table of contents, links or not."""
    if tag.name not in ("ul", "ol") or "toc" not in _classes(tag):
        return False
    words = len(_NAMING.findall(tag.get_text(" ")))
    linked = sum(len(_NAMING.findall(a.get_text(" "))) for a in tag.find_all("a", href=True))
    return words > 0 and linked < TOC_LINK_SHARE * words


def _authors_sidebar(tag: Any) -> bool:
    """A sidebar the author wrote (reStructuredText's ``.. sidebar::``: docutils gives it a
    ``sidebar-title`` as its first element), not a site's: an example or a note of the page's
    own. Only its first element is looked at (no walk of the subtree per element)."""
    if "sidebar" not in _classes(tag):
        return False
    first = _first_element(tag)
    return first is not None and "sidebar-title" in _classes(first)


def hidden(tag: Any) -> bool:
    """Whether the element is hidden from a reader of the page: the ``hidden`` attribute,
    ``aria-hidden``, or an inline style that hides it."""
    return bool(
        _attr(tag, "aria-hidden").lower() == "true"
        or tag.has_attr("hidden")
        or _styled_hidden(_attr(tag, "style"))
    )


# Inline styles that keep an element from being seen: what a reader of the page never sees is
# not indexed (nor cited), and text hidden this way is a common carrier of planted instructions.
_HIDING = {"display": frozenset({"none"}), "visibility": frozenset({"hidden", "collapse"})}


@lru_cache(maxsize=1024)  # a page's styles repeat; bounded: a server reads pages for ever
def _styled_hidden(style: str) -> bool:
    """Whether an inline ``style`` hides its element (``display: none``, ``visibility:
    hidden``), read as CSS (tinycss2: comments, case, ``!important``, later declarations)."""
    lowered = style.lower()
    if "\\" not in style and "display" not in lowered and "visibility" not in lowered:
        return False  # most styles (a CSS escape could spell either name: parsed then)
    final: dict[str, tuple[str, bool]] = {}
    for declaration in tinycss2.parse_blocks_contents(style, skip_comments=True):
        if declaration.type != "declaration" or declaration.lower_name not in _HIDING:
            continue
        words = [t.lower_value for t in declaration.value if t.type == "ident"]
        value = words[0] if len(words) == 1 else ""
        earlier = final.get(declaration.lower_name)
        if earlier is None or declaration.important or not earlier[1]:
            final[declaration.lower_name] = (value, declaration.important)
    return any(final.get(name, ("", False))[0] in hiding for name, hiding in _HIDING.items())


def _refuse_unindexed(soup: Any) -> None:
    """Refuse a page that asks not to be indexed (``<meta name="robots" content="noindex">``):
    generators mark so the pages that repeat others, such as mdBook's print.html (the whole book
    on one page: every answer could cite it instead of the chapter) and toc.html."""
    for meta in soup.find_all("meta"):
        if str(meta.get("name", "")).strip().lower() != "robots":
            continue
        rules = {r.strip().lower() for r in str(meta.get("content", "")).split(",")}
        if rules & {"noindex", "none"}:
            raise UnreadableFile(
                'a page that asks not to be indexed (<meta name="robots" content="noindex">), '
                "such as a print or contents page that repeats others"
            )


def _refuse_redirect(soup: Any, body: Any) -> None:
    """Refuse a page that only sends the reader elsewhere: a meta refresh, or a link and at most
    a dozen other words ("This page has moved to ...", or an empty page whose only link is its
    footer's: the reason says which of them it may be, as it cannot tell)."""
    for meta in soup.find_all("meta"):
        if str(meta.get("http-equiv", "")).lower() == "refresh":
            found = _REFRESH.search(str(meta.get("content", "")))
            target = f" to {found.group(1).strip()}" if found else ""
            raise UnreadableFile(f"a redirect page{target} (meta refresh), not a document")
    links = body.find_all("a", href=True)
    if not links:
        return
    words = len(body.get_text(" ").split())
    link_words = sum(len(a.get_text(" ").split()) for a in links)
    if words - link_words <= _STUB_WORDS and words <= 3 * _STUB_WORDS:
        hrefs = [str(a["href"]) for a in links]
        target = next((h for h in reversed(hrefs) if not h.startswith("#")), hrefs[-1])
        own = len(_WORDS.findall(body.get_text(" "))) - sum(
            len(_WORDS.findall(a.get_text(" "))) for a in links
        )
        raise UnreadableFile(
            f"almost no text of its own ({own} word{'' if own == 1 else 's'} besides a link "
            f"to {target}): a redirect or an empty page, not a document"
        )


def _refuse_link_page(root: Any) -> None:
    """Refuse a page whose main content is almost all links: an index or a table of contents
    (Sphinx's genindex.html, a texinfo or DocBook index, a book's contents page). Its entries
    hold every term of the pages they list, so they would be found for many questions and
    cited for none. Content pages of real documentation keep far fewer of their words in links
    (the Node.js reference pages longer than a stub: at most 14%)."""
    words = len(_WORDS.findall(root.get_text(" ")))
    linked = sum(len(_WORDS.findall(a.get_text(" "))) for a in root.find_all("a", href=True))
    # A short page of links is refused before this, as a redirect stub.
    if linked and linked >= LINK_PAGE_SHARE * words:
        raise UnreadableFile(
            f"a page of links ({linked} of its {words} words are links: an index or a table "
            "of contents), not a document"
        )


def walk(root: Any, builder: DocumentBuilder, budget: Budget | None = None) -> None:
    """Blocks of ``root`` in document order, added to ``builder``; within ``budget``'s time.

    An explicit stack, not recursion: deeply nested markup must not overflow Python's stack.
    """
    from bs4 import Tag
    from bs4.element import CData, NavigableString, PreformattedString

    pieces: list[str | int] = []  # text, or a break: 1 a new line, 2 a new paragraph
    bar = _Bar()  # the block's links and its words outside them: is it a navigation bar?
    container: list[Any] = []  # the list or table being read as one block, with its kind
    # Definition lists being read item by item, innermost last: each ``<dt>``'s words wait for
    # the ``<dd>`` they name, whose blocks are read under them (``DocumentBuilder.term``).
    definitions: list[_Definitions] = []
    # The answer rows being read, innermost last: each one's question is a term open in the
    # builder until that row ends. A question with no answer row right after it heads nothing.
    answering: list[Any] = []
    stack: list[tuple[Any, bool, bool]] = [(root, False, False)]
    sections: set[int] = set()  # lists read as the page's structure (they hold headings)
    numbering = _Numbering()  # an ordered list's item numbers, written before their text
    label = ""  # the number of the item opened last, until its first words

    def flush(kind: str = "paragraph") -> None:
        text = _join_pieces(pieces)
        pieces.clear()
        # A term's description is content: Sphinx's "Return type: str | bytes | None" is links
        # with only separators between them, in a <dd> of its own.
        if not bar.navigation(menus=not definitions):
            builder.add(text, kind)
        bar.clear()

    steps = 0
    while stack:
        steps += 1
        _check_every(budget, steps)
        node, closing, preserve = stack.pop()
        if isinstance(node, Tag):
            name = node.name.lower()
            if name == "a" and node.has_attr("href"):
                bar.link(closing)
            if closing and definitions and definitions[-1].node is node:
                flush()
                definitions.pop().close(builder)
                continue
            if closing and answering and node is answering[-1]:
                flush()
                builder.end_term()
                answering.pop()
                continue
            if closing:
                if name == "li":
                    label = ""  # an item without words of its own: its number goes with it
                if container and container[-1][0] is node:
                    _, kind = container.pop()
                    if not container:
                        flush(kind)
                        continue
                if container:
                    if name in _PARAGRAPH_TAGS or name in _LINE_TAGS or name in _HEADINGS:
                        pieces.append(1)
                elif name in _PARAGRAPH_TAGS or name in _CAPTIONS or id(node) in sections:
                    flush("caption" if name in _CAPTIONS else "paragraph")
                elif name in _LINE_TAGS:
                    pieces.append(1)
                continue
            if name in _SKIPPED_TAGS:
                continue
            if not container and name in _HEADINGS:
                flush()
                builder.heading(_HEADINGS[name], _heading_text(node))
                continue
            if not container and name in _PRESERVE_TAGS:
                flush()
                builder.add(_preformatted(node, budget), "code")
                continue
            # A table that only frames blocks falls through: what it holds is read as blocks.
            if name == "table" and not _layout(node):
                if container:
                    pieces.extend((1, _table_text(node), 1))
                else:
                    flush()
                    builder.add(_table_text(node), "table")
                continue
            columns = _grid_columns(node) if name == "div" and _GRID in _classes(node) else 0
            if columns:
                text = _grid_text(node, columns)
                if container:
                    pieces.extend((1, text, 1))
                else:
                    flush()
                    builder.add(text, "table")
                continue
            if name == "tr" and not container and _QUESTION in _classes(node):
                flush()
                answer = node.find_next_sibling("tr")
                if builder.term(_question(node)):
                    if answer is not None and _ANSWER in _classes(answer):
                        answering.append(answer)
                    else:
                        builder.end_term()
                continue
            if name == "dl" and not container:
                flush()
                definitions.append(_Definitions(node))
                stack.append((node, True, preserve))
                stack.extend((child, False, preserve) for child in reversed(node.contents))
                continue
            if name == "dt" and not container and definitions:
                flush()
                definitions[-1].terms.append(_heading_text(node))
                continue
            if name == "dd" and not container and definitions:
                flush()
                definitions[-1].describe(builder)
            if name in _LISTS and not container and _sectioned(node):
                # A list whose every item holds a heading is the page's structure, not a list
                # (Javadoc's member details: a section per item): its items are read as blocks.
                flush()
                sections.add(id(node))
            elif name == "li" and not container and id(node.parent) in sections:
                flush()
            elif name in _LISTS:
                if not container:
                    flush()
                container.append((node, "list"))
            elif container:
                if name in _PARAGRAPH_TAGS or name in _LINE_TAGS or name in _HEADINGS:
                    pieces.append(1)
            elif name in _PARAGRAPH_TAGS or name in _CAPTIONS:
                flush()
            elif name in _LINE_TAGS:
                pieces.append(1)
            if name == "li" and id(node.parent) not in sections:
                label = numbering.label(node)
            inner = preserve or name in _PRESERVE_TAGS
            stack.append((node, True, preserve))
            stack.extend((child, False, inner) for child in reversed(node.contents))
        elif isinstance(node, NavigableString) and (
            isinstance(node, CData) or not isinstance(node, PreformattedString)
        ):  # text; not a comment, doctype or processing instruction
            text = str(node)
            if label and text.strip():
                pieces.append(label)
                label = ""
            pieces.append(text if preserve else re.sub(r"\s+", " ", text))
            bar.text(text)
    flush()


class _Numbering:
    """The numbers of ordered lists' items ("3. ", "b. ", "iv. "), as a browser shows them:
    from the list's ``start`` (or its item count when ``reversed``), an item's ``value``
    restarting the count, in the list's ``type``. Any other item gets no label."""

    def __init__(self) -> None:
        self.last: dict[int, int] = {}  # an ordered list's last number given, by its id

    def label(self, item: Any) -> str:
        ordered = item.parent
        if ordered is None or ordered.name.lower() != "ol":
            return ""
        step = -1 if ordered.has_attr("reversed") else 1
        value = _integer(item.get("value"))
        if value is None and id(ordered) in self.last:
            value = self.last[id(ordered)] + step
        if value is None:
            value = _integer(ordered.get("start"))
        if value is None:
            value = len(ordered.find_all("li", recursive=False)) if step < 0 else 1
        self.last[id(ordered)] = value
        return f"{item_number(value, str(ordered.get('type') or '1'))}. "


def _integer(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _sectioned(node: Any) -> bool:
    """Whether every item of the list ``node`` holds a heading (a warning box with its own
    heading in one item of a list leaves it a list)."""
    items = node.find_all("li", recursive=False)
    return bool(items) and all(item.find(_HEADINGS) for item in items)


class _Bar:
    """The links of the block being read and its words outside them (at most a few: a block
    with more is no navigation bar, and is not looked at further)."""

    def __init__(self) -> None:
        self.links = 0
        self.inside = False  # reading a link's words (HTML parsers never nest one in another)
        self.other = False  # a word outside the links that no navigation bar has
        self.named = False  # a word that says where a link goes: "Next", "Up", "Index"
        self.separated = False  # a menu's separator ("|", ">") outside the links
        self.unseparated = False  # any other character outside the links (a word's too)
        self.plain = True  # every link named in words, none like code
        self.tags = True  # every link named by a language tag ("en", "pt-br")
        self.languages = False  # a word outside the links that says they are languages

    def link(self, closing: bool) -> None:
        self.links += not closing
        self.inside = not closing

    def text(self, text: str) -> None:
        if self.other:
            return
        words = [w.lower() for w in _WORDS.findall(text[:_BAR_CHARS])]
        if self.inside:
            # A link named "Next" or "Table of Contents" says where it goes; "CREATE INDEX",
            # "str.index()" or "High-level API Index" name a page's subject.
            self.named = self.named or (
                any(w in _NAVIGATION for w in words)
                and all(w in _LINK_NAVIGATION_WORDS for w in words)
                and not _CODE_MARKS.search(text)
            )
            self.plain = self.plain and not _CODE_MARKS.search(text)
            self.tags = self.tags and _LANGUAGE_TAG.fullmatch(text.strip()) is not None
            return
        self.named = self.named or any(w in _NAVIGATION for w in words)
        self.languages = self.languages or any(w in _LANGUAGE_WORDS for w in words)
        self.other = len(text) > _BAR_CHARS or any(w not in _BAR_WORDS for w in words)
        marks = set("".join(text[:_BAR_CHARS].split()))
        self.separated = self.separated or bool(marks & _MENU_SEPARATORS)
        self.unseparated = self.unseparated or bool(marks - _MENU_SEPARATORS)

    def navigation(self, menus: bool = True) -> bool:
        """Two links or more, a word that says where one goes, and besides the links only
        navigation words and punctuation; a menu: ``_MENU_LINKS`` links or more named in
        plain words, only separators between them; or a row of language links (a list of
        links alone is not taken for a bar)."""
        if self.other or self.links < 2:
            return False
        menu = (
            menus
            and self.links >= _MENU_LINKS
            and self.plain
            and self.separated
            and not self.unseparated
        )
        return self.named or menu or (self.tags and self.languages)

    def clear(self) -> None:
        self.links = 0
        self.other = self.named = self.separated = self.unseparated = False
        self.plain = self.tags = True
        self.languages = False


class _Definitions:
    """One ``<dl>`` being read: the terms met since the last description, and whether a term
    is open in the builder."""

    def __init__(self, node: Any) -> None:
        self.node = node
        self.terms: list[str] = []
        self.open = False

    def describe(self, builder: DocumentBuilder) -> None:
        """A ``<dd>`` starts: its terms (several ``<dt>`` name one thing: "--quiet, -q") open."""
        if not self.terms:
            return  # a second <dd> of the same terms: still under them
        if self.open:
            builder.end_term()
        self.open = builder.term(", ".join(t for t in self.terms if t))
        self.terms.clear()

    def close(self, builder: DocumentBuilder) -> None:
        if self.open:
            builder.end_term()
        if self.terms:  # terms without a description: what they are, as a paragraph
            builder.add(", ".join(self.terms), "paragraph")


def _heading_text(node: Any) -> str:
    """A heading's (or a defined term's) words, without the "#" or "¶" link to itself that many
    sites add, nor comments; a line break or a block inside it is a space: SQLite's
    ``<dt>mode=ro<br>mode=rw</dt>`` is "mode=ro mode=rw", not "mode=romode=rw"."""
    return _edged_text(node, skip=_self_link)


def _self_link(tag: Any) -> bool:
    """A link that is only a mark ("#", "¶"): a heading's link to itself."""
    return bool(tag.name == "a" and tag.get_text(strip=True) in _ANCHOR_MARKS)


def _rows(table: Any) -> list[Any]:
    """A table's own rows (in its head, bodies and foot), not those of tables in its cells."""
    return [
        row
        for part in table.find_all(("thead", "tbody", "tfoot", "tr"), recursive=False)
        for row in ([part] if part.name == "tr" else part.find_all("tr", recursive=False))
    ]


def _layout(table: Any) -> bool:
    """Whether a table only frames what it holds (as Firefox's reader view decides): marked
    ``role="presentation"``, or a single column of text with no caption - DocBook's notes and
    warnings (an icon, "Note", then the note's paragraphs), a page laid out in one cell. Its
    paragraphs are then read as paragraphs, not as one row of a data table. Looks at the
    table's own rows and a bounded part of each cell: tables nested in tables cost no more.
    A table of questions and answers (``_questions``) frames them too."""
    if _attr(table, "role").lower() in ("presentation", "none"):
        return True
    if table.find("caption", recursive=False) is not None:
        return False
    rows = _rows(table)
    if rows and all(_QANDA_ROWS.intersection(_classes(row)) for row in rows):
        return any(_QUESTION in _classes(row) for row in rows)
    if not rows or len(rows) > _LAYOUT_ROWS:
        return False
    return all(
        sum(
            _has_words(cell) and not _admonition_label(cell)
            for cell in row.find_all(_CELLS, recursive=False)
        )
        <= 1
        for row in rows
    )


def _admonition_label(cell: Any) -> bool:
    """A cell that only labels the note beside it ("Note", "Warning": AsciiDoc's admonition
    block, where DocBook's has an icon): it frames, as an icon would. Its words are read with a
    space between elements, so a colon after the word's tag ("<b>Note</b>:") reads "note :"."""
    if len(cell.contents) > _LABEL_NODES:  # a label is a word in a tag or two, no list of them
        return False
    return " ".join(cell.get_text(" ").split()).casefold().rstrip(": ") in _ADMONITIONS


def _question(row: Any) -> str:
    """A question row's words: its last cell that has any (the first holds its label, "3.1."
    or "Q:")."""
    cells = [_inline_text(cell) for cell in row.find_all(_CELLS, recursive=False)]
    return next((cell for cell in reversed(cells) if cell), "")


def _has_words(cell: Any, limit: int = 64) -> bool:
    """Whether a cell shows text, looking at its first ``limit`` descendants at most (past
    them: taken as text). Its own walk: bs4's ``descendants`` first finds the subtree's end."""
    from bs4 import Tag
    from bs4.element import NavigableString, PreformattedString

    stack = list(reversed(cell.contents))
    for _ in range(limit):
        if not stack:
            return False
        node = stack.pop()
        if isinstance(node, Tag):
            stack.extend(reversed(node.contents))
        elif (
            isinstance(node, NavigableString)
            and not isinstance(node, PreformattedString)  # a comment
            and node.strip()
        ):
            return True
    return True


def _table_text(table: Any) -> str:
    """A table as one line per row (its caption first), cells separated by `` | ``."""
    lines: list[str] = []
    for part in table.find_all(_ROW_PARTS):
        if _owner(part) is not table:
            continue  # a nested table's row (it is in its cell's text), or a hidden one
        if part.name == "caption":
            lines.append(_inline_text(part))
            continue
        cells = [_inline_text(cell) for cell in part.find_all(_CELLS, recursive=False)]
        if any(cells):
            lines.append(" | ".join(cells).strip())
    return "\n".join(line for line in lines if line)


# Javadoc's summary tables (JDK 16 on): a grid of <div> cells, its header cells first.
_GRID = "summary-table"
_GRID_HEADER = "table-header"


def _grid_columns(grid: Any) -> int:
    cells = grid.find_all("div", recursive=False)
    return sum(1 for cell in cells if _GRID_HEADER in _classes(cell))


def _grid_text(grid: Any, columns: int) -> str:
    """A grid of <div> cells as a table of ``columns`` (its header cells), a line per row."""
    cells = [_inline_text(cell) for cell in grid.find_all("div", recursive=False)]
    rows = [cells[i : i + columns] for i in range(0, len(cells), columns)]
    return "\n".join(" | ".join(row).strip() for row in rows if any(row))


def _owner(part: Any) -> Any:
    """The table a row part belongs to, or None when what holds it there is left out (a
    ``<template>`` or ``<noscript>`` of rows): ``_strings`` looks below a cell only."""
    for parent in part.parents:
        if parent.name in _SKIPPED_TAGS:
            return None
        if parent.name == "table":
            return parent
    return None


def _inline_text(node: Any) -> str:
    """An element's words on one line, without comments or skipped elements: a space where a
    block or line element starts or ends, none at an inline element's edge ("(<b>M</b>)" is
    "(M)", "<b>M</b>ark" is "Mark", as the page shows them; they read "( M )", "M ark")."""
    return _edged_text(node)


def _edged_text(node: Any, skip: Callable[[Any], bool] | None = None) -> str:
    """``_inline_text``'s reading, without what ``skip`` accepts: a table cell's words, and a
    heading's or a term's without its link to itself."""
    pieces = _strings(node, edges=_CELL_BREAKS, skip=skip)
    return collapse("".join(" " if piece is _EDGE else piece for piece in pieces))


_EDGE = object()  # where an element of ``_strings``'s ``edges`` starts or ends
# Elements a browser shows on lines of their own inside a cell: a <pre> or a heading too
# ("Run:<pre>make</pre>then" is not "Run:makethen").
_CELL_BREAKS = _PARAGRAPH_TAGS | _LINE_TAGS | _PRESERVE_TAGS | frozenset(_HEADINGS)


def _strings(
    node: Any,
    budget: Budget | None = None,
    edges: frozenset[str] = frozenset(),
    skip: Callable[[Any], bool] | None = None,
) -> list[Any]:
    """The text strings under ``node`` in document order, without comments or what skipped
    elements hold. One walk of the subtree (each string's ancestors were looked up before:
    50,000 nested <b> in a <pre> took 3 minutes past a 20 s deadline), within ``budget``. Where
    an element named in ``edges`` starts and where it ends, the list holds ``_EDGE``; what an
    element ``skip`` accepts holds is left out."""
    from bs4 import Tag
    from bs4.element import CData, NavigableString, PreformattedString

    out: list[Any] = []
    stack = list(reversed(node.contents))
    steps = 0
    while stack:
        steps += 1
        _check_every(budget, steps)
        current = stack.pop()
        if current is _EDGE:
            out.append(current)
        elif isinstance(current, Tag):
            if current.name in _SKIPPED_TAGS or (skip is not None and skip(current)):
                continue
            if current.name in edges:
                out.append(_EDGE)
                stack.append(_EDGE)  # popped once its children are: its end
            stack.extend(reversed(current.contents))
        elif isinstance(current, NavigableString) and (
            isinstance(current, CData) or not isinstance(current, PreformattedString)
        ):
            out.append(str(current))
    return out


def _preformatted(node: Any, budget: Budget | None = None) -> str:
    """The text of a ``<pre>`` as it is; several ``<code>`` in one (variants of one example,
    as a language toggle shows them) are separated by a blank line. A ``<pre>`` whose code
    elements are among its other words (Sphinx's grammar: ``<strong>name</strong> ::=
    <code>token</code> ...``) is read whole."""
    codes = node.find_all("code", recursive=False)
    others = [
        c
        for c in node.contents
        if c.name not in _SKIPPED_TAGS and c.name != "code" and str(c.get_text()).strip()
    ]
    if len(codes) > 1 and not others:
        return "\n\n".join("".join(_strings(code, budget)).strip("\n") for code in codes)
    return "".join(_strings(node, budget))


def _join_pieces(pieces: list[str | int]) -> str:
    """Join text and breaks: no spaces around a break, at most one paragraph break in a row."""
    out: list[str] = []
    pending = 0
    for piece in pieces:
        if isinstance(piece, int):
            pending = max(pending, piece)
            continue
        if pending:
            piece = piece.lstrip(" ")
            if not piece:
                continue
            if out:
                out[-1] = out[-1].rstrip(" ")
                out.append("\n" * pending)
            pending = 0
        elif out and out[-1].endswith(" ") and piece.startswith(" "):
            piece = piece.lstrip(" ")
        if piece:
            out.append(piece)
    return "".join(out).strip()
