"""``python -m models.backtest``: the command line lives in :mod:`models.evaluation.backtest`."""

import sys

from models.evaluation.backtest import main

if __name__ == "__main__":
    sys.exit(main())
