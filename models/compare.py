"""``python -m models.compare``: the command line lives in :mod:`models.evaluation.compare`."""

import sys

from models.evaluation.compare import main

if __name__ == "__main__":
    sys.exit(main())
