"""`python -m local` starts the local stack (see `local.stack`)."""

import sys

from .stack import main

sys.exit(main())
