"""What the package's tests share: where things are, and the datamart's size."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = os.environ.get("ENSEMBLE_BIN", str(ROOT / "target" / "debug" / "ensemble"))
SCRIPT = (ROOT / "examples" / "loyalty.seg").read_text()
CUSTOMERS = 3_000
