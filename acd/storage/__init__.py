"""Persistence: SQLAlchemy 2 async models, engine set-up, Alembic migrations and the write spool.

The daemon never awaits the database on a call path: it hands frozen write commands
(``acd.storage.commands``) to a ``StorageWriter`` (``acd.storage.writer``), which applies them
and, while the database is down, keeps them in an fsync'd on-disk spool (``acd.storage.spool``).
"""
