"""FastAGI: sans-I/O protocol core (environment, commands, replies, out-of-band HANGUP)."""
