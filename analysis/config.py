"""Paths derived from the project root, so nothing depends on the folder you run from."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent
DATA_DIR = PROJECT_ROOT / "data"
DEMO_DATA_DIR = DATA_DIR / "demo"
DEMO_RETURNS_DIR = DATA_DIR / "demo_returns"
OUTPUTS_DIR = PROJECT_ROOT / "outputs"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
TARGETS_DIR = PROJECT_ROOT / "targets"
LOOKUP_FILE = PACKAGE_DIR / "read" / "data" / "la_lookup.csv"
# The real published files sit beside the project (read-only); tests and the real-data pack read them there.
SHARED_DATA_DIR = Path(os.environ.get("NEEDS_SHARED_DATA", PROJECT_ROOT.parent / "shared" / "data" / "dfe"))
