"""Recordings feature package: catalogue, storage policy and quality assurance."""
