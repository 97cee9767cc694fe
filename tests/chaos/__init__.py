"""Chaos runs: the real daemon, abused at random for minutes, then checked end to end."""
