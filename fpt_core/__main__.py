"""``python -m fpt_core``: the ``fpt`` command (see :mod:`fpt_core.cli`)."""

import sys

from fpt_core.cli import main

sys.exit(main())
