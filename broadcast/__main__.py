"""``python -m broadcast`` runs the CLI."""

from broadcast.cli import main

main()
