"""The layers hold: import-linter's contracts in pyproject.toml (each layer imports only from those below it;
statistics read no file; presentation and the pack never import the record-level readers; demo data stays outside)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports() -> str:
    exe = Path(sys.executable).with_name("lint-imports")
    found = str(exe) if exe.exists() else shutil.which("lint-imports")
    if not found:
        pytest.fail("import-linter is not installed: pip install -e '.[test]'")
    return found


def test_import_contracts_hold():
    run = subprocess.run([_lint_imports()], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "4 kept, 0 broken" in run.stdout


def test_a_forbidden_import_is_caught(tmp_path):
    """The check can fail: a copy of the package where a statistic imports a reader breaks a contract."""
    copy = tmp_path / "analysis"
    shutil.copytree(ROOT / "analysis", copy, ignore=shutil.ignore_patterns("__pycache__", "data", "*.yaml"))
    rates = copy / "stats" / "rates.py"
    rates.write_text(rates.read_text(encoding="utf-8") + "\nfrom analysis.read import sources  # noqa\n",
                     encoding="utf-8")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    run = subprocess.run([_lint_imports()], cwd=tmp_path, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(tmp_path)})  # the copy, not the installed package
    assert run.returncode != 0
    assert "analysis.stats.rates -> analysis.read.sources" in run.stdout
