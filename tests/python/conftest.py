"""A demo datamart and an `ensemble serve` on free loopback ports, shared by the tests."""

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

PASSWORD = "py-tests-secret"
ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("ENSEMBLE_BIN", str(ROOT / "target" / "debug" / "ensemble"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port, process, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"ensemble serve exited: {process.stderr.read()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("ensemble serve did not start")


@pytest.fixture(scope="session")
def datamart(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    subprocess.run(
        [BIN, "generate", "--customers", "3000", "--out", str(out)],
        check=True,
        capture_output=True,
    )
    script = out / "segments.seg"
    script.write_text((ROOT / "examples" / "loyalty.seg").read_text())
    return out / "ensemble.toml", script


@pytest.fixture(scope="session")
def server(datamart):
    catalog, script = datamart
    pg, flight = free_port(), free_port()
    env = dict(os.environ, ENSEMBLE_SERVE_PASSWORD=PASSWORD, NO_COLOR="1")
    process = subprocess.Popen(
        [BIN, "serve", "-c", str(catalog), "-s", str(script),
         "--pg", f"127.0.0.1:{pg}", "--flight", f"127.0.0.1:{flight}"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(pg, process)
        wait_for(flight, process)
        yield {"pg": pg, "flight": flight, "catalog": catalog, "script": script}
    finally:
        process.terminate()
        process.wait(timeout=30)


def run_members(catalog, script, expression):
    """The members `ensemble run` finds for `expression` after the script's definitions."""
    text = script.read_text() + f"\n{expression};\n"
    result = subprocess.run(
        [BIN, "run", "-c", str(catalog), "-e", text, "--format", "csv"],
        check=True,
        capture_output=True,
        text=True,
    )
    return {int(line) for line in result.stdout.splitlines()[1:] if line}
