"""``python3 -m weft_sdk build [DIR]``: see :mod:`weft_sdk.build`."""

import sys

from .build import main

sys.exit(main(sys.argv[1:]))
