"""`python -m toolkit …`: the command line (toolkit.cli)."""
from .cli import main

main()
