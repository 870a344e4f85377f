"""``python -m models.score``: the command line lives in :mod:`models.cli.score`, the library
in :mod:`models.evaluation.score_run`."""

import sys

from models.cli.score import main

if __name__ == "__main__":
    sys.exit(main())
