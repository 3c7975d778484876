"""``python -m scinet``: see :mod:`scinet.cli`."""

import sys

from scinet.cli import main

sys.exit(main())
