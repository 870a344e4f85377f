"""Models, Monte Carlo simulation, results and command-line entry points."""

import warnings

# PyTensor warns on every C compilation when pip-installed without a BLAS to link; our graphs are
# small and do not use BLAS-backed ops, so the warning is noise for users and CI.
warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS", category=UserWarning)
