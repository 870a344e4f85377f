"""``python -m models.sbc``: the command line lives in :mod:`models.cli.sbc`, the library in
:mod:`models.inference.calibration` and :mod:`models.evaluation.distributed`."""

import sys

from models.cli import entry_point

main = entry_point("models.cli.sbc")
"""The command line (also the console command): Ctrl-C and SIGTERM are clean exits."""

if __name__ == "__main__":
    sys.exit(main())
