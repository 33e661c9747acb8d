"""``python -m tui`` is ``crossroom``."""

import sys

from tui.cli import main

sys.exit(main())
