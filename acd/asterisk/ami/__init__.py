"""Asterisk Manager Interface: sans-I/O protocol core (framing, messages, correlation, login)."""
