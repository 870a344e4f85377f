"""``python -m models.priors``: the command line lives in :mod:`models.cli.priors`."""

import sys

from models.cli import entry_point

main = entry_point("models.cli.priors")
"""The command line (also the console command): Ctrl-C and SIGTERM are clean exits."""

if __name__ == "__main__":
    sys.exit(main())
