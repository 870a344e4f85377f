"""``python -m models.timeline``: the command line lives in :mod:`models.cli.timeline`, the
library in :mod:`models.evaluation.timeline`."""

import sys

from models.cli.timeline import main

if __name__ == "__main__":
    sys.exit(main())
