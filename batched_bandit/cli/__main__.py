import sys

from . import main

if __name__ == "__main__":  # not when a Dask worker process, spawned, re-imports the main module
    sys.exit(main())
