"""The size of the package a student reads, against issue 32's goals.

    python tools/package_size.py            # in the repository root

An AST count over ``fmnist_utils/*.py`` (docstrings and comments included): lines per module,
the five teaching modules together, every function's length (``def`` to its last line) and
body (its statements after the docstring), the ``raise`` statements, and the public names
(``__all__``) that no notebook names and neither README.md nor INSTRUCTORS.md documents.
Exit status 1 when a goal is missed.
"""

from __future__ import annotations

import ast
import json
import re
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ("data", "models", "training", "evaluation", "plots")
GOALS = {
    "package lines": 4000,
    "teaching lines": 2000,
    "longest function": 45,
    "median body": 6,
    "unused public names": 0,
}


def body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of a function's statements, its docstring left out."""
    body = node.body
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return node.end_lineno - body[0].lineno + 1 if body else 0


def measure(package: Path) -> dict:
    """The figures of every module of ``package``, and the totals."""
    modules, functions = {}, []
    for path in sorted(package.glob("*.py")):
        text = path.read_text()
        tree = ast.parse(text)
        defs = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        functions += [(n.end_lineno - n.lineno + 1, body_lines(n), f"{path.stem}.{n.name}") for n in defs]
        exported = next(
            (
                ast.literal_eval(n.value)
                for n in tree.body
                if isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in n.targets)
            ),
            [],
        )
        modules[path.stem] = {
            "lines": len(text.splitlines()),
            "raise": sum(isinstance(n, ast.Raise) for n in ast.walk(tree)),
            "all": list(exported),
        }
    return {"modules": modules, "functions": sorted(functions, reverse=True)}


def course_text(root: Path) -> str:
    """What a student reads: every cell of the notebooks in ``solutions/``, the README, INSTRUCTORS.md."""
    cells = [
        "".join(cell["source"])
        for notebook in sorted((root / "solutions").glob("[0-9][0-9]_*.ipynb"))
        for cell in json.loads(notebook.read_text())["cells"]
    ]
    return "\n".join(cells + [(root / name).read_text() for name in ("README.md", "INSTRUCTORS.md")])


def main() -> int:
    figures = measure(ROOT / "fmnist_utils")
    modules, functions = figures["modules"], figures["functions"]
    text = course_text(ROOT)
    unused = 0
    for name, module in modules.items():
        names = [n for n in module["all"] if not re.search(rf"\b{re.escape(n)}\b", text)]
        unused += len(names)
        print(
            f"{name:18s} {module['lines']:5d} lines  {module['raise']:3d} raise  "
            f"__all__ {len(module['all']):2d}, unused: {', '.join(names) or '-'}"
        )
    reached = {
        "package lines": sum(m["lines"] for m in modules.values()),
        "teaching lines": sum(modules[name]["lines"] for name in TEACHING if name in modules),
        "longest function": functions[0][0],
        "median body": statistics.median(body for _, body, _ in functions),
        "unused public names": unused,
    }
    print(
        f"\n{len(functions)} functions; over {GOALS['longest function']} lines: "
        + (", ".join(f"{name} {n}" for n, _, name in functions if n > GOALS["longest function"]) or "none")
    )
    missed = 0
    for goal, limit in GOALS.items():
        ok = reached[goal] <= limit
        missed += not ok
        print(f"{goal:17s} {reached[goal]:>7,}  goal <= {limit:,}  {'met' if ok else 'MISSED'}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
