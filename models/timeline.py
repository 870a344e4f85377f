"""``python -m models.timeline``: the command line lives in :mod:`models.cli.timeline`, the
library in :mod:`models.evaluation.timeline`."""

import sys

from models.cli import entry_point

main = entry_point("models.cli.timeline")
"""The command line (also the console command): Ctrl-C and SIGTERM are clean exits."""

if __name__ == "__main__":
    sys.exit(main())
