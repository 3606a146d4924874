"""Asterisk protocol layer: sans-I/O cores for AMI and FastAGI, and thin asyncio adapters."""
