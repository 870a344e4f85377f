"""``python -m models.priors``: the command line lives in :mod:`models.cli.priors`."""

import sys

from models.cli.priors import main

if __name__ == "__main__":
    sys.exit(main())
