"""``python -m models.compare``: the command line lives in :mod:`models.cli.compare`, the
library in :mod:`models.evaluation.compare`."""

import sys

from models.cli import entry_point

main = entry_point("models.cli.compare")
"""The command line (also the console command): Ctrl-C and SIGTERM are clean exits."""

if __name__ == "__main__":
    sys.exit(main())
