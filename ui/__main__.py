"""``python -m ui``: serve the chat page."""

import sys

from ui.app import main

sys.exit(main())
