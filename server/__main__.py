"""`python -m server`: the desk service's command line (``server.cli``)."""

import sys

from server.cli import main

sys.exit(main())
