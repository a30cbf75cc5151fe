#!/usr/bin/env bash
# The Python tests, in a virtual environment (target/py-venv) with
# tests/python/requirements.txt:
#   - tests/python: the clients of `ensemble serve` (psycopg over the Postgres protocol, ADBC
#     over Flight SQL), against the debug `ensemble` binary;
#   - python/tests: the `ensemble` package, from the wheel maturin builds (debug profile,
#     which reuses the artifacts of `cargo test --workspace`), and the same wheel alone in a
#     fresh virtual environment (target/py-fresh).
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="target/py-venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
pip_install() { "$1/bin/python" -m pip install --quiet --disable-pip-version-check "${@:2}"; }
pip_install "$venv" -r tests/python/requirements.txt
cargo test --workspace --no-run --quiet

wheels="target/wheels"
rm -rf "$wheels"
"$venv/bin/maturin" build --quiet --profile dev --manifest-path python/Cargo.toml --out "$wheels"
wheel="$(ls "$wheels"/ensemble-*.whl)"
pip_install "$venv" --force-reinstall --no-deps "$wheel"

fresh="target/py-fresh"
rm -rf "$fresh"
python3 -m venv "$fresh"
pip_install "$fresh" "$wheel"
root="$PWD"
(cd /tmp && "$root/$fresh/bin/python" "$root/python/tests/smoke.py")

export ENSEMBLE_BIN="$PWD/target/debug/ensemble"
"$venv/bin/python" -m pytest -q tests/python
"$venv/bin/python" -m pytest -q python/tests
