"""The PBX simulator: a pure call model (``Pbx``) plus an asyncio runtime around it."""
