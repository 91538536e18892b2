"""reStructuredText with docutils, tolerant of Sphinx: directives and roles docutils does not
know (``.. command::``, ``.. versionadded::``, ``:variable:``...) keep their prose and their
text instead of becoming errors; file inclusion and raw output are off (a document must not pull
other files into the index). A source docutils cannot parse is read as text; one that takes
longer than its ``Budget`` is an ``UnreadableFile`` (skipped with the reason)."""

from __future__ import annotations

import ast
import io
import re
import textwrap
import threading
from typing import Any

from rag.loaders.base import (
    Budget,
    DocumentBuilder,
    LoadedDocument,
    UnreadableFile,
    collapse,
    item_number,
    normalise,
)
from rag.loaders.sphinx import (
    LITERAL,
    NO_ARGUMENT_TEXT,
    SKIPPED,
    VERSION,
    role_text,
    version_line,
)

_DIRECTIVE_NAME = re.compile(r"^[ \t]*\.\.[ \t]+([\w][\w:.+-]*)[ \t]*::", re.MULTILINE)
_ROLE_NAME = re.compile(r"(?<![\w`]):([\w][\w:.+-]*):`")
# docutils keeps directives and roles in process-wide tables, so each unknown name a file uses
# is registered there for good. A real page uses a few (at most 22 here in CMake's, Click's and
# Flask's docs, 72 across them); past this many new ones in one file it is not documentation,
# and is read as text (1 MB of distinct names would add about 100 MB to a long-running page).
MAX_NEW_NAMES = 1_000
# And past this many registered by this process in all, a file with new ones is read as text:
# the cap above is per file, so a thousand uploads of 999 new names each still grew the tables
# by a million names (about 100 MB) for good.
MAX_REGISTERED_NAMES = 20_000
_registered = 0
_registering = threading.Lock()
_MAX_DEPTH = 60
# Columns of indentation past which a source is read as text: real reStructuredText nests a few
# levels (code in a list in a note: 20-40 columns).
_MAX_INDENT = 200
_INDENT = re.compile(r"^[ \t]*", re.MULTILINE)
# Characters of one grid table past which a source is read as text. docutils scans a grid
# table's corners before any cell is read (no deadline can stop it there), in time growing
# faster than its size: 66 KB (90 x 90 cells) took 2.2 s, so 4 MB would take minutes. Real
# tables are a few KB at most (none in CMake's reference; under 1 KB in the 165 rst pages of
# train/data and the installed packages).
_MAX_GRID_TABLE = 128 * 1024
_GRID_LINE = re.compile(r"^[ \t]*[+|].*[+|][ \t]*$")


def load_rst(source: str, budget: Budget | None = None) -> LoadedDocument:
    """The document of ``source``; past ``budget`` (default: 60 s), ``UnreadableFile`` as soon
    as it is seen (docutils is checked at each block of text it reads)."""
    budget = budget or Budget()
    if _deepest_indent(source) > _MAX_INDENT or _largest_grid_table(source) > _MAX_GRID_TABLE:
        # docutils nests a state machine per level: 1 MB indented 1,500 levels deep took 1.8 s
        # and 410 MB before it failed, 4 MB 1.3 GB. Read as text, as what it cannot parse.
        return LoadedDocument(normalise(source))
    if not _register_unknown(source):
        return LoadedDocument(normalise(source))
    try:
        doctree = _parse(source, budget)
    except UnreadableFile:
        raise
    except Exception:  # docutils may fail on input it does not expect: keep the text
        return LoadedDocument(normalise(source))
    budget.check()
    builder = DocumentBuilder()
    _walk(doctree, builder, 1, 0)
    document = builder.build()
    if not document.text.strip():
        return LoadedDocument(normalise(source))
    return document


def _deepest_indent(source: str) -> int:
    return max((len(m.group(0).expandtabs(8)) for m in _INDENT.finditer(source)), default=0)


def _largest_grid_table(source: str) -> int:
    """The characters of the longest run of lines that could be a grid table's."""
    largest = run = 0
    for line in source.splitlines():
        run = run + len(line) + 1 if _GRID_LINE.match(line) else 0
        largest = max(largest, run)
    return largest


def _parse(source: str, budget: Budget) -> Any:
    from docutils.core import publish_doctree
    from docutils.parsers.rst import Parser

    settings = {
        "report_level": 5,
        "halt_level": 5,
        "warning_stream": io.StringIO(),
        "file_insertion_enabled": False,
        "raw_enabled": False,
        "_disable_config": True,
        "syntax_highlight": "none",
        "input_encoding": "unicode",
        "doctitle_xform": True,
        "sectsubtitle_xform": False,
    }
    parser = Parser(inliner=_budgeted_inliner(budget))
    return publish_doctree(source, parser=parser, settings_overrides=settings)


def _budgeted_inliner(budget: Budget) -> Any:
    """docutils' inline parser, called for every paragraph, title, list item and table cell,
    checking ``budget`` first: the deadline holds wherever docutils spends its time on text
    (4 MB of nested lists took over two minutes)."""
    from docutils.parsers.rst.states import Inliner

    # An instance's own ``parse``, not a subclass: docutils builds its patterns from the
    # Inliner class's own attributes (``vars(self.__class__)``), which a subclass has not.
    inliner = Inliner()
    read = inliner.parse

    def parse(text: str, lineno: int, memo: Any, parent: Any) -> Any:
        budget.check()
        return read(text, lineno, memo, parent)

    inliner.parse = parse
    return inliner


def _register_unknown(source: str) -> bool:
    """Register the directives and roles ``source`` uses that docutils does not know; False
    (nothing registered) when they are over ``MAX_NEW_NAMES``."""
    from docutils.parsers.rst import directives, roles
    from docutils.parsers.rst.languages import en

    known_directives = set(directives._directives) | set(directives._directive_registry)
    known_directives |= set(en.directives)
    new_directives = {n.lower() for n in _DIRECTIVE_NAME.findall(source)} - known_directives
    known_roles = set(roles._roles) | set(roles._role_registry) | set(en.roles)
    new_roles = {n.lower() for n in _ROLE_NAME.findall(source)} - known_roles
    global _registered
    new = len(new_directives) + len(new_roles)
    if new > MAX_NEW_NAMES:
        return False
    with _registering:
        if _registered + new > MAX_REGISTERED_NAMES:
            return False
        _registered += new
    for name in new_directives:
        classes = _directive_classes()
        directives.register_directive(name, classes[1] if name in VERSION else classes[0])
    for name in new_roles:
        roles.register_local_role(name, _text_role)
    return True


def _text_role(
    name: str,
    rawtext: str,
    text: str,
    lineno: int,
    inliner: Any,
    options: dict[str, Any] | None = None,
    content: list[str] | None = None,
) -> tuple[list[Any], list[Any]]:
    """A Sphinx role as the words it shows: ``:command:`add_executable()``` -> add_executable(),
    ``:ref:`the guide <guide-label>``` -> the guide."""
    from docutils import nodes, utils

    return [nodes.Text(role_text(utils.unescape(text)))], []


_DIRECTIVE_CLASSES: tuple[Any, Any] | None = None


def _directive_classes() -> tuple[Any, Any]:
    """Generic Directives for Sphinx's: one for any directive (any argument and option, its
    content parsed as body text, or kept as code for code-like directives) and one for version
    notes ("New in version 3.11: ..." with the note's inline markup parsed)."""
    global _DIRECTIVE_CLASSES
    if _DIRECTIVE_CLASSES is not None:
        return _DIRECTIVE_CLASSES
    from docutils import nodes
    from docutils.parsers.rst import Directive, directives
    from docutils.statemachine import StringList

    class AnyOption(dict[str, Any]):
        def __contains__(self, key: object) -> bool:
            return True

        def __getitem__(self, key: str) -> Any:
            return directives.unchanged

    class SphinxDirective(Directive):  # type: ignore[misc]
        required_arguments = 0
        optional_arguments = 1
        final_argument_whitespace = True
        option_spec = AnyOption()
        has_content = True

        def run(self) -> list[Any]:
            name = self.name.lower()
            if name in SKIPPED:
                return []
            argument = " ".join(" ".join(self.arguments).split())
            if name in LITERAL:
                text = "\n".join(self.content) or argument
                return [nodes.literal_block(text, text)] if text.strip() else []
            body = self.parse(self.content) if self.content else []
            content = "\n".join(self.content)
            if _reads_as_code(body, content):
                body = [nodes.literal_block(content, content)]
            if not argument or name in NO_ARGUMENT_TEXT:
                return body
            if not body:
                return [nodes.literal_block(argument, argument)]
            # What the directive describes (``.. option:: --fresh``, ``.. function:: url_for(
            # endpoint)``) is the term its content describes, as in a definition list.
            term = nodes.term(argument, "", nodes.literal(argument, argument))
            return [nodes.definition_list_item("", term, nodes.definition("", *body))]

        def parse(self, lines: Any) -> list[Any]:
            box = nodes.container()
            self.state.nested_parse(lines, self.content_offset, box)
            return list(box.children)

    class VersionDirective(SphinxDirective):
        required_arguments = 1
        optional_arguments = 1

        def run(self) -> list[Any]:
            note = " ".join(" ".join(self.arguments[1:]).split())
            first = version_line(self.name.lower(), self.arguments[0], note)
            lines = StringList([first, ""], source="")
            if self.content:
                lines.extend(self.content)
            return self.parse(lines)

    _DIRECTIVE_CLASSES = (SphinxDirective, VersionDirective)
    return _DIRECTIVE_CLASSES


# docutils' enumeration types, as an HTML ordered list's ``type`` (loaders/html.py).
_ENUMERATION = {
    "arabic": "1",
    "loweralpha": "a",
    "upperalpha": "A",
    "lowerroman": "i",
    "upperroman": "I",
}


def _numbered(enumerated: Any) -> list[str]:
    """An enumerated list's items, each after its number as the source writes it ("3.",
    "(b)", "iv)")."""
    kind = _ENUMERATION.get(enumerated.get("enumtype", "arabic"), "1")
    prefix, suffix = enumerated.get("prefix", ""), enumerated.get("suffix", ".")
    start = enumerated.get("start", 1)
    return [
        f"{prefix}{item_number(start + i, kind)}{suffix} {collapse(item.astext())}"
        for i, item in enumerate(enumerated.children)
    ]


def _reads_as_code(body: list[Any], content: str) -> bool:
    """Whether a directive's content is Python that docutils misread (a Sphinx extension's
    example directive such as Click's ``.. click:example::``): its parse has both block quotes
    (indented lines) and markup errors (``*args``, backquotes), and the content, not its parse,
    is a Python program. Prose with both (an API description quoting an example after a colon
    and naming ``*args``) is no program; a directive with directives inside is none either."""
    from docutils import nodes

    found = {type(node) for part in body for node in part.findall()}
    if nodes.block_quote not in found or nodes.system_message not in found:
        return False
    try:
        ast.parse(textwrap.dedent(content))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _walk(node: Any, builder: DocumentBuilder, level: int, depth: int) -> None:
    from docutils import nodes

    for child in node.children:
        if depth > _MAX_DEPTH:
            builder.add(collapse(child.astext()), "paragraph")
        elif isinstance(child, nodes.title):
            builder.heading(level, child.astext())
        elif isinstance(child, nodes.subtitle):
            builder.add(child.astext(), "paragraph")
        elif isinstance(child, nodes.section):
            _walk(child, builder, level + 1, depth + 1)
        elif isinstance(child, (nodes.literal_block, nodes.doctest_block)):
            builder.add(child.astext(), "code")
        elif isinstance(child, nodes.bullet_list):
            builder.add("\n".join(collapse(item.astext()) for item in child.children), "list")
        elif isinstance(child, nodes.enumerated_list):
            builder.add("\n".join(_numbered(child)), "list")
        elif isinstance(child, nodes.table):
            builder.add(_table(child), "table")
        elif isinstance(child, nodes.caption):
            builder.add(collapse(child.astext()), "caption")
        elif isinstance(child, nodes.line_block):
            builder.add("\n".join(collapse(line.astext()) for line in child.children), "paragraph")
        elif isinstance(child, (nodes.paragraph, nodes.rubric)):
            builder.add(collapse(child.astext()), "paragraph")
        elif isinstance(child, (nodes.definition_list_item, nodes.option_list_item, nodes.field)):
            _described(child, builder, level, depth)
        elif isinstance(child, nodes.topic) and "contents" in child.get("classes", []):
            continue  # a generated table of contents
        elif isinstance(
            child,
            (nodes.system_message, nodes.comment, nodes.substitution_definition, nodes.target,
             nodes.pending, nodes.raw, nodes.image, nodes.meta),
        ):  # fmt: skip
            continue
        elif isinstance(child, (nodes.Text, nodes.TextElement)):
            builder.add(collapse(child.astext()), "paragraph")
        else:  # containers: admonitions, block quotes, definition and field lists, ...
            _walk(child, builder, level, depth + 1)


def _described(item: Any, builder: DocumentBuilder, level: int, depth: int) -> None:
    """A definition-list item, an option or a field: its term ("``TIMEOUT <seconds>``", "-q,
    --quiet", a field's name) opens a term for the blocks that describe it."""
    from docutils import nodes

    naming = (nodes.term, nodes.classifier, nodes.option_group, nodes.field_name)
    names = [collapse(part.astext()) for part in item.children if isinstance(part, naming)]
    opened = builder.term(" : ".join(name for name in names if name))
    for part in item.children:
        if not isinstance(part, naming):
            _walk(part, builder, level, depth + 1)
    if opened:
        builder.end_term()


def _table(table: Any) -> str:
    from docutils import nodes

    rows = []
    for row in table.findall(nodes.row):
        cells = [collapse(entry.astext()) for entry in row.children]
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)
