"""What the multi-rank test scripts share: the check that mpirun is
installed, the environment the ranks run in, and a command that must
succeed.

Not meant to be run directly; the scripts import it from their own folder.
"""

import os
import shutil
import subprocess
import sys

# ctest's code for a skipped test (SKIP_RETURN_CODE in tests/sharding/CMakeLists.txt).
SKIPPED = 77


def mpirun_missing():
    """True, after saying so, when mpirun is not installed: the caller
    returns SKIPPED."""
    if shutil.which("mpirun") is None:
        print("mpirun not found: install openmpi-bin")
        return True
    return False


def mpi_environment(**extra):
    """os.environ plus what the runs need: Open MPI refuses to run as root
    (CI's user) unless told twice, and the ranks share the machine's cores,
    so each gets one BLAS/OpenMP thread."""
    return dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
                OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", **extra)


def run(command, **kwargs):
    """Runs `command`, its output captured; exits the test with both
    outputs when it fails."""
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.exit(f"FAILED ({result.returncode}): {' '.join(command)}\n{result.stdout}\n"
                 f"{result.stderr}")
    return result
