"""python -m release_sample_app runs the service."""

import sys

from .app import main

sys.exit(main())
