"""``python -m models.score``: the command line lives in :mod:`models.cli.score`, the library
in :mod:`models.evaluation.score_run`."""

import sys

from models.cli import entry_point

main = entry_point("models.cli.score")
"""The command line (also the console command): Ctrl-C and SIGTERM are clean exits."""

if __name__ == "__main__":
    sys.exit(main())
