"""``python -m models.sweep``: the command line lives in :mod:`models.cli.sweep`, the library in
:mod:`models.evaluation.sweep`."""

import sys

from models.cli.sweep import main

if __name__ == "__main__":
    sys.exit(main())
