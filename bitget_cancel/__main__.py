"""``python -m bitget_cancel``: the same as the ``bitget-cancel`` command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
