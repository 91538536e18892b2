"""``python -m ui [PATH] [--replace] [options]``: the same as ``rag ui`` (rag/cli.py settles the
folder, then serves the page)."""

import sys

from rag.cli import main

sys.exit(main(["ui", *sys.argv[1:]]))
