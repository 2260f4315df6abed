"""The installed package is ``gpu_platform``, built from the ``components/`` folder."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"] == {"gpu_platform": "components"}
    folders = {
        "gpu_platform" + ".".join(("",) + init.parent.relative_to(ROOT / "components").parts)
        for init in (ROOT / "components").rglob("__init__.py")
    }
    assert set(config["packages"]) == folders
