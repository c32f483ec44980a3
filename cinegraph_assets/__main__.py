"""`python -m cinegraph_assets run|status`."""

import sys

from cinegraph_assets.cli import main

sys.exit(main())
