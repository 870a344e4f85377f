"""``python -m models.sweep``: the command line lives in :mod:`models.cli.sweep`, the library in
:mod:`models.evaluation.sweep`."""

import sys

from models.cli import entry_point

main = entry_point("models.cli.sweep")
"""The command line (also the console command): Ctrl-C and SIGTERM are clean exits."""

if __name__ == "__main__":
    sys.exit(main())
