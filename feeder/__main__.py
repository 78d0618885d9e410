"""``python -m feeder``: the same as the ``feeder`` command."""

import sys

from feeder.cli import main

sys.exit(main())
