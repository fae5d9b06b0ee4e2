"""``python -m sourcemark`` runs the command line."""

from sourcemark.cli import main

main()
