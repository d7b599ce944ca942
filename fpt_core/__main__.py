"""``python -m fpt_core``: the ``fpt`` command (see :mod:`fpt_core.cli`)."""

import sys

from .cli import main

sys.exit(main())
