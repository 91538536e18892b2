"""Technical reference documentation as sections: reStructuredText to (heading path, lead, text).

Used for the leave-one-corpus-out calibration measurement (train/loco.py: the pages become plain
text documents, each section heading turned into a pseudo-question whose answer is the section's
lead paragraph) and for reader training pairs from documentation (train/data.py). A light reader
of the rst that CMake's Help folder uses: headings by their underline, Sphinx roles reduced to
their text, directives' text bodies kept (notes, version notes), code, tables of contents and
includes left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ADORNMENT = re.compile(r"^([=\-^~\"*#+`:.'_])\1{2,}\s*$")
ROLE = re.compile(r":[\w:+-]+:`([^`]*)`")
TARGET = re.compile(r"^(.+?)\s+<[^>]*>$")
REFERENCE = re.compile(r"`([^`]+)`_+")
LITERAL = re.compile(r"``(.+?)``")
LINK = re.compile(r"`([^`<]+?)\s*<[^>]*>`_+")
DIRECTIVE = re.compile(r"^\.\.\s+([\w:-]+)::\s*(.*)$")
# Directives whose indented body is prose the reader may answer from.
TEXT_DIRECTIVES = {"versionadded", "versionchanged", "deprecated", "note", "warning", "only"}
# Headings that say nothing about their section (no pseudo-question from them).
GENERIC = {
    "introduction", "synopsis", "description", "options", "see also", "examples", "example",
    "overview", "contents", "notes", "usage", "variables", "commands", "properties", "arguments",
    "result variables", "hints", "deprecated commands", "policies", "environment variables",
}  # fmt: skip


@dataclass
class Section:
    """One section of a page: its heading path (page title first) and its paragraphs."""

    path: list[str]
    paragraphs: list[str] = field(default_factory=list)

    @property
    def heading(self) -> str:
        return self.path[-1]

    @property
    def lead(self) -> str:
        return self.paragraphs[0] if self.paragraphs else ""


def inline(text: str) -> str:
    """Roles, literals and links to their text; whitespace collapsed."""
    text = ROLE.sub(lambda m: TARGET.sub(r"\1", m.group(1)), text)
    text = LINK.sub(lambda m: m.group(1), text)
    text = REFERENCE.sub(lambda m: m.group(1), text)
    text = LITERAL.sub(lambda m: m.group(1), text)
    return " ".join(text.split())


def _blocks(lines: list[str]) -> list[list[str]]:
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    return [b for b in blocks if b]


def parse_rst(text: str) -> list[Section]:
    """The page's sections in order, the first one holding the text before any sub-heading."""
    lines = text.splitlines()
    styles: list[str] = []
    sections: list[Section] = []
    path: list[str] = []
    body: list[str] = []
    skip_indent: int | None = None

    def flush() -> None:
        if sections:
            for block in _blocks(body):
                paragraph = inline(" ".join(line.strip() for line in block))
                if paragraph and not paragraph.startswith(".."):
                    sections[-1].paragraphs.append(paragraph)
        body.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if skip_indent is not None:
            if line.strip() and len(line) - len(line.lstrip()) <= skip_indent:
                skip_indent = None
            else:
                i += 1
                continue
        overlined = i + 2 < len(lines) and ADORNMENT.match(lines[i + 2])
        if ADORNMENT.match(line) and nxt.strip() and overlined:
            line, nxt = nxt, lines[i + 2]  # an over- and underlined title
            i += 1
        if line.strip() and ADORNMENT.match(nxt) and len(nxt.strip()) >= len(line.strip()) - 1:
            style = nxt.strip()[0]
            if style not in styles:
                styles.append(style)
            level = styles.index(style)
            flush()
            path = [*path[:level], inline(line.strip())]
            sections.append(Section(list(path)))
            i += 2
            continue
        directive = DIRECTIVE.match(line.strip())
        if directive and not line.startswith(" "):
            name = directive.group(1)
            if name in TEXT_DIRECTIVES:
                body.append("")
                if name != "only" and directive.group(2):
                    body.append(directive.group(2))
            else:
                skip_indent = len(line) - len(line.lstrip())
            i += 1
            continue
        if line.rstrip().endswith("::") and not line.strip().startswith(".."):
            body.append(line.rstrip()[:-1])  # "text::" introduces a literal block: skip it
            body.append("")
            skip_indent = len(line) - len(line.lstrip())
            i += 1
            continue
        if line.strip().startswith(".."):
            skip_indent = len(line) - len(line.lstrip())  # a comment or a target
            i += 1
            continue
        body.append(line)
        i += 1
    flush()
    return [s for s in sections if s.paragraphs or len(s.path) == 1]


def page_text(sections: list[Section]) -> str:
    """The page as a plain-text document: title line, then each heading and its paragraphs."""
    out: list[str] = []
    for section in sections:
        out.append(section.heading)
        out.append("")
        for paragraph in section.paragraphs:
            out.append(paragraph)
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def pseudo_question(section: Section, page_kind: str) -> str:
    """The heading as a question ("" when the heading is too generic to ask about)."""
    heading = section.heading.strip().rstrip(":").strip()
    if heading.lower() in GENERIC or len(heading) < 4:
        return ""
    if len(section.path) == 1 and page_kind == "command":
        return f"What does the {heading} command do?"
    if len(heading.split()) < 2 and not re.search(r"[_.()]", heading):
        return ""
    return heading if heading.endswith("?") else f"What is {heading}?"


def is_prose(paragraph: str) -> bool:
    """A lead worth answering with: a sentence of words, not a signature or a list of names."""
    return len(paragraph.split()) >= 6 and paragraph.rstrip().endswith((".", ":"))


def rst_pages(root: Path) -> list[tuple[Path, list[Section]]]:
    """Every .rst page under ``root`` with its sections (sorted by path)."""
    return [
        (path, parse_rst(path.read_text(encoding="utf-8", errors="replace")))
        for path in sorted(root.rglob("*.rst"))
    ]
