"""``python -m runtime.cli``: the ``formwright`` command without the console script."""

import sys

from runtime.cli import main

sys.exit(main())
