"""Sub-commands of ``hotline``; each module has ``register(subparsers)``."""
