"""The ``hotline`` command line."""
