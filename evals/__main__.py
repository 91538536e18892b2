"""``python -m evals``: the same as ``rag eval``."""

import sys

from evals.runner import main

sys.exit(main())
