"""hotline ACD daemon and the shared kernel used by the ``ivr`` and ``recordings`` packages."""

__version__ = "0.1.0"
