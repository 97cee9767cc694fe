"""Outputs: where a zone's audio goes (for now, the local sound device)."""
