"""`python -m console`: the console's command line (console.cli), as `recognition-console`."""

import sys

from console.cli import main

sys.exit(main())
