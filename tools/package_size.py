"""The size of the package a student reads: files, lines, longest functions, public names.

    python tools/package_size.py            # in the repository root

Counts fmnist_utils/*.py (docstrings and comments included), the functions and methods over
60 lines, the public names (module-level functions, classes and constants of the modules
whose names do not start with "_") and how many of them the notebooks' code cells name.
"""

from __future__ import annotations

import ast
import json
import re
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    files = sorted((ROOT / "fmnist_utils").glob("*.py"))
    lines = sum(len(path.read_text().splitlines()) for path in files)
    functions, public = [], set()
    for path in files:
        tree = ast.parse(path.read_text())
        functions += [
            (node.end_lineno - node.lineno + 1, f"{path.stem}.{node.name}")
            for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        ]
        if not path.name.startswith("_"):
            for node in tree.body:
                names = [node.name] if isinstance(node, (ast.FunctionDef, ast.ClassDef)) else []
                if isinstance(node, ast.Assign):
                    names = [target.id for target in node.targets if isinstance(target, ast.Name)]
                public |= {name for name in names if not name.startswith("_")}
    code = "\n".join(
        "".join(cell["source"])
        for notebook in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
        for cell in json.loads(notebook.read_text())["cells"]
        if cell["cell_type"] == "code"
    )
    used = {name for name in public if re.search(rf"\b{re.escape(name)}\b", code)}
    functions.sort(reverse=True)
    print(f"package: {len(files)} files, {lines:,} lines, {len(functions)} functions")
    print(f"function length: median {statistics.median(n for n, _ in functions)} lines, longest:")
    print("  " + ", ".join(f"{name} {n}" for n, name in functions[:5]))
    print(f"functions over 60 lines: {sum(n > 60 for n, _ in functions)}")
    print(f"public names: {len(public)}, named in the notebooks: {len(used)}")
    print(f"README: {len((ROOT / 'README.md').read_text().splitlines())} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
