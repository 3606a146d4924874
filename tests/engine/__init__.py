"""Tests for the ACD pure core (acd/engine)."""
