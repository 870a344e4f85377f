"""``python -m models.run``: the command line lives in :mod:`models.cli.run`."""

import sys

from models.cli import entry_point

main = entry_point("models.cli.run")
"""The command line (also the console command): Ctrl-C and SIGTERM are clean exits."""

if __name__ == "__main__":
    sys.exit(main())
