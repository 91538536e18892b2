"""Sphinx's directives and roles as a reader of the built page sees them, for both source syntaxes
that use them: reStructuredText (``.. note::``, ``:ref:`...```; loaders/rst.py) and MyST Markdown
(```` ```{note} ````, ``{ref}`...```; loaders/markdown.py)."""

from __future__ import annotations

import re

# Sphinx directives whose content is not prose (file names, index entries, output switches).
SKIPPED = frozenset(
    {"toctree", "index", "include", "literalinclude", "highlight", "tabularcolumns", "raw",
     "meta", "image", "figure", "contents", "sectionauthor", "moduleauthor", "codeauthor",
     "default-role", "default-domain", "currentmodule", "cmake-module"}
)  # fmt: skip
# Directives whose content is code or a grammar, shown as it is written (MyST writes a code
# block with a caption or options as ```` ```{code-block} python ```` or ```` ```{code} ````).
LITERAL = frozenset(
    {"code-block", "sourcecode", "productionlist", "signature", "prompt", "code-tab", "code",
     "code-cell"}
)  # fmt: skip
# Version notes: "New in version 3.11: ..."; any other argument (the command or option a
# directive describes) is shown as code.
VERSION = {
    "versionadded": "New in version {}",
    "versionchanged": "Changed in version {}",
    "deprecated": "Deprecated since version {}",
    "versionremoved": "Removed in version {}",
}
# Directives whose argument is a switch or a tab's label, not words (``.. only:: html``,
# ``.. group-tab:: Bash``): a label between a sentence and the command it introduces would
# stand in for the command.
NO_ARGUMENT_TEXT = frozenset({"only", "ifconfig", "tab", "tabs", "group-tab", "card", "program"})


def version_line(name: str, version: str, note: str = "") -> str:
    """A version note's first line as Sphinx writes it: "Changed in version 21.3: <note>",
    or "New in version 3.11." without a note on the directive's line."""
    lead = VERSION[name].format(version)
    return f"{lead}: {note}" if note else f"{lead}."


_TITLED_TARGET = re.compile(r"^(.*?)\s*<([^<>]*)>$", re.DOTALL)


def role_text(text: str) -> str:
    """A role as the words it shows: ``:command:`add_executable()``` -> add_executable(),
    ``:ref:`the guide <guide-label>``` -> the guide, ``:func:`~os.path.join``` -> os.path.join
    (the target when the title is empty)."""
    titled = _TITLED_TARGET.match(text)
    if titled:
        text = titled.group(1) or titled.group(2)
    return text.lstrip("~!")
