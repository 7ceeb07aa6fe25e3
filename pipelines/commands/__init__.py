"""One module per ``newsbeam`` command (``run``, ``watch``, ``stream``, ``query``, ``compact``,
``report``), each with ``register(subparsers)`` and ``main(args, extra_args) -> int``."""
