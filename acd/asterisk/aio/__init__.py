"""Thin asyncio adapters around the sans-I/O AMI and FastAGI cores."""
