"""Types and lint, run by the README's test command (and so by CI).

mypy checks the installed package name, ``gpu_platform``; the repository keeps it in
``components/`` (pyproject's package-dir), a mapping mypy cannot see, so the test links
``<tmp>/gpu_platform -> components`` and puts ``<tmp>`` on MYPYPATH. Settings: pyproject's
``[tool.mypy]`` (its comment says why that strictness level).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_mypy_reports_no_errors(tmp_path):
    (tmp_path / "gpu_platform").symlink_to(ROOT / "components", target_is_directory=True)
    env = {**os.environ, "MYPYPATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "-p", "gpu_platform", "--cache-dir", str(ROOT / ".mypy_cache")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Success: no issues found" in result.stdout


def test_ruff_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--quiet", "."],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
