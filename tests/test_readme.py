"""The README's Python examples run as written (in a temporary working copy of the project)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_readme_has_python_examples() -> None:
    assert len(blocks()) >= 3


@pytest.mark.parametrize("i", range(len(blocks())))
def test_readme_example_runs(i: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for d in ("scenarios", "layers"):
        shutil.copytree(ROOT / d, tmp_path / d)
    (tmp_path / "maps").mkdir()
    monkeypatch.chdir(tmp_path)
    code = blocks()[i]
    exec(compile(code, f"README.md python block {i + 1}", "exec"), {"__name__": "readme"})
    assert os.getcwd() == str(tmp_path)
