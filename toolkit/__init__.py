"""整改台账 toolkit: consolidate unit workbooks into a rectification ledger, compute progress,
highlight overdue measures and write notices. See README.md.

    from toolkit import Workspace
    report = Workspace.open("台账").run_once()
"""

__version__ = "0.1.0"

import logging  # noqa: E402

logging.getLogger("toolkit").addHandler(logging.NullHandler())   # a library prints nothing unless asked

from .app import RunReport, Workspace  # noqa: E402
from .errors import BusyError, ConfigError, FileAccessError, ToolkitError  # noqa: E402
from .model import Settings  # noqa: E402

__all__ = ["Workspace", "RunReport", "Settings", "ToolkitError", "BusyError", "ConfigError", "FileAccessError"]
