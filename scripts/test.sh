#!/usr/bin/env bash
# Run lint, the import contract and the whole test suite (called by `make test` and CI).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
export QT_QPA_PLATFORM=offscreen
echo "== ruff"; "$VENV/bin/ruff" check .
echo "== import contracts"; "$VENV/bin/lint-imports"
echo "== mypy"; "$VENV/bin/mypy" console ui media cardreader server
echo "== pytest"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
