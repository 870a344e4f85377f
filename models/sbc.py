"""``python -m models.sbc``: the command line lives in :mod:`models.cli.sbc`, the library in
:mod:`models.inference.calibration` and :mod:`models.evaluation.distributed`."""

import sys

from models.cli.sbc import main

if __name__ == "__main__":
    sys.exit(main())
