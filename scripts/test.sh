#!/usr/bin/env bash
# Run lint, the import contract and the whole test suite (called by `make test` and CI).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
export QT_QPA_PLATFORM=offscreen
echo "== ruff"; "$VENV/bin/ruff" check .
echo "== import contracts"; "$VENV/bin/lint-imports"
echo "== mypy"; "$VENV/bin/mypy" console ui media cardreader server demo
echo "== pytest"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
# The desk-service tests a second time, every service on PostgreSQL (a throwaway cluster:
# tests/fixtures/postgres.py; about two minutes). Only for the whole suite (no arguments);
# RECOGNITION_TEST_NO_POSTGRES=1 skips it (developers without PostgreSQL; never in CI).
if [ $# -eq 0 ] && [ "${RECOGNITION_TEST_NO_POSTGRES:-0}" != 1 ]; then
  echo "== pytest: desk service on PostgreSQL"
  RECOGNITION_TEST_DB=postgresql "$VENV/bin/python" -m pytest -q -p no:cacheprovider \
    tests/test_server_auth.py tests/test_server_auth_concurrency.py tests/test_server_evidence.py \
    tests/test_server_hostile_json.py tests/test_server_otp.py tests/test_server_policy_matrix.py \
    tests/test_server_requests.py tests/test_server_robustness.py tests/test_server_signalling.py \
    tests/test_server_totp.py tests/test_server_trust.py tests/test_evidence_upload.py
fi
