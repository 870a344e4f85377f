"""``python -m models.compare``: the command line lives in :mod:`models.cli.compare`, the
library in :mod:`models.evaluation.compare`."""

import sys

from models.cli.compare import main

if __name__ == "__main__":
    sys.exit(main())
