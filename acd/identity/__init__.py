"""Who may use the HTTP API: personal keys and service tokens, browser sessions, roles, and the
back-off after failed sign-ins. Pure parts (``keys``, ``sessions``, ``throttle``, ``principal``)
are plain functions of their inputs; ``users`` and ``directory`` read and write the ``users``
table."""
