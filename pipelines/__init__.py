"""Pipeline assembly, options and the ``newsbeam`` command line."""
