"""The hotline daemon: the ACD floor, its owner task, the call flow and the composition root."""
