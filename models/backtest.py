"""``python -m models.backtest``: the command line lives in :mod:`models.cli.backtest`."""

import sys

from models.cli.backtest import main

if __name__ == "__main__":
    sys.exit(main())
