"""Entry point of ``python -m companion_server``."""

import sys

from companion_server.cli import main

sys.exit(main())
