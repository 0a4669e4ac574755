"""The README's Python examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index: int, capsys) -> None:
    namespace: dict = {"__name__": "readme_example"}
    try:
        exec(compile(BLOCKS[index], f"README.md[python block {index}]", "exec"), namespace)
    finally:
        env = namespace.get("env")
        if env is not None:
            env.close()
        env_id = namespace.get("env_id")
        if env_id:
            import darwin_bench

            darwin_bench.unregister(env_id)
