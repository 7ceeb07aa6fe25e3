"""``python -m pipelines`` is the ``newsbeam`` command."""
import sys

from pipelines.cli import main

sys.exit(main())
