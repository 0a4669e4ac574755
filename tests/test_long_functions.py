"""scripts/long_functions.py finds long functions and methods, nested ones included."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "long_functions.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("long_functions", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lists_functions_over_the_limit_with_qualified_names(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(5))
    source = (
        f"def short():\n    pass\n\n"
        f"class A:\n    def long(self):\n{body.replace('    ', '        ')}\n\n"
        f"def outer():\n    def inner():\n{body.replace('    ', '        ')}\n    return inner\n"
    )
    path = tmp_path / "m.py"
    path.write_text(source)
    found = sorted(_script().long_functions(path, 4))
    assert [name for _, _, name in found] == ["A.long", "outer.inner", "outer"]
    assert all(lines > 4 for lines, _, _ in found)
    assert list(_script().long_functions(path, 100)) == []
