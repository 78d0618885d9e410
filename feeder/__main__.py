"""``python -m feeder``: the same as the ``feeder`` command."""

import sys

from .cli import main

sys.exit(main())
