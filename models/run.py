"""``python -m models.run``: the command line lives in :mod:`models.cli.run`."""

import sys

from models.cli.run import main

if __name__ == "__main__":
    sys.exit(main())
