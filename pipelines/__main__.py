"""``python -m pipelines`` is the ``newsbeam`` command."""
from pipelines.cli import entry

entry()
