"""List the functions longer than a limit (CONTRIBUTING: none over ~60 lines without a reason).

Reads the sources with :mod:`ast` (nothing is imported) and prints one line per function, longest
first: its length in lines (signature, docstring and body), ``path:line`` and its qualified name.
It always exits 0: a long function may have a reason (a declarative argparse table, a report
dict); say it in the function's docstring or the pull request.

    python scripts/long_functions.py                 # darwin_bench envs baselines leaderboard
    python scripts/long_functions.py --max 40 envs   # a stricter look at one package
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGES = ("darwin_bench", "envs", "baselines", "leaderboard")


def long_functions(path: Path, limit: int) -> Iterator[tuple[int, int, str]]:
    """``(lines, first line, qualified name)`` of each function in ``path`` over ``limit`` lines."""

    def visit(node: ast.AST, prefix: str) -> Iterator[tuple[int, int, str]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    lines = (child.end_lineno or child.lineno) - child.lineno + 1
                    if lines > limit:
                        yield lines, child.lineno, name
                yield from visit(child, f"{name}.")
            else:
                yield from visit(child, prefix)

    yield from visit(ast.parse(path.read_text(encoding="utf-8")), "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", default=PACKAGES, help="folders or files")
    parser.add_argument("--max", type=int, default=60, help="longest allowed (default 60)")
    args = parser.parse_args()
    found: list[tuple[int, str, str]] = []
    for root in map(Path, args.paths):
        files = [root] if root.is_file() else sorted(root.rglob("*.py"))
        for path in files:
            for lines, line, name in long_functions(path, args.max):
                found.append((lines, f"{path}:{line}", name))
    for lines, where, name in sorted(found, reverse=True):
        print(f"{lines:4d}  {where}  {name}")
    print(f"{len(found)} function(s) over {args.max} lines")


if __name__ == "__main__":
    main()
