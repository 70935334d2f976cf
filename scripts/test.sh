#!/usr/bin/env bash
# The one test command (README and .ci/run): install the package with test extras, the
# system tools the tests use, the static checks (ruff, and mypy strict on model and rules; both configured
# in pyproject.toml), then the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q --disable-pip-version-check -e '.[test]'
bash scripts/install_system_deps.sh
python -m ruff check .
python -m mypy
python -m pytest "$@"
