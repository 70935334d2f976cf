"""Where the shipped data folders are: notice templates, Excel macro sources and the demo data.

setup.cfg maps the repository's top-level templates/, macros/ and workbooks/demo/ into the package
as toolkit.templates, toolkit.macros and toolkit.demo_data, so a wheel carries them. Run from a
source checkout (editable install or PYTHONPATH), the checkout's own folders are used.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IN_CHECKOUT = {"templates": "templates", "macros": "macros", "demo_data": "workbooks/demo"}


def folder(name: str) -> Path:
    """The folder of the shipped data `name` (a key of IN_CHECKOUT), as a real filesystem path."""
    source = ROOT / IN_CHECKOUT[name]
    if (ROOT / "setup.cfg").is_file() and source.is_dir():
        return source
    return Path(str(resources.files("toolkit") / name))
