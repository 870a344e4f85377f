"""``python -m models.score``: the command line lives in :mod:`models.evaluation.score_run`."""

import sys

from models.evaluation.score_run import main

if __name__ == "__main__":
    sys.exit(main())
