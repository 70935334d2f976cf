"""整改台账 toolkit: consolidate unit workbooks into a rectification ledger, compute progress,
highlight overdue measures and write notices. See README.md."""

__version__ = "0.1.0"
