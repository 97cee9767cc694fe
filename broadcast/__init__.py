"""broadcast: a ward loudspeaker broadcast scheduler for Vietnamese bulletins."""

__version__ = "0.1.0"
