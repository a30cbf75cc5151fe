#!/usr/bin/env bash
# The Python clients' tests of `ensemble serve`: psycopg over the Postgres protocol and ADBC
# over Flight SQL, against the debug `ensemble` binary. Creates a virtual environment
# (target/py-venv) with tests/python/requirements.txt, builds the binary if needed (as
# `cargo test --workspace` builds it, so that after the suite nothing is rebuilt).
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="target/py-venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt
cargo test --workspace --no-run --quiet
export ENSEMBLE_BIN="$PWD/target/debug/ensemble"
"$venv/bin/python" -m pytest -q tests/python
