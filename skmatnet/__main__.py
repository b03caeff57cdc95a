"""``python -m skmatnet``: the ``skmatnet`` command line (see :mod:`skmatnet.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
