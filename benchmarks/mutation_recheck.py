"""Check that each survivor listed under [killed] in mutation_equivalents.toml is killed by its test.

    python benchmarks/mutation_recheck.py [NAME ...]     # after `make mutation` (needs mutants/)

For each mutant: copy the package, tests and configuration to a scratch folder, write the
mutant into the package there (the function as `mutmut show` prints it, in place of the
original; `mutmut apply` picks the first method of that name in the file), run the test
named for it, and expect it to fail. Prints one line per mutant; exits 1 if any test passes
with its mutant in place (the
test does not kill it) or a mutant cannot be applied.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = ROOT / "benchmarks" / "mutation_equivalents.toml"
COPIED = ("fmnist_utils", "tools", "tests", "notebooks", "benchmarks", "pyproject.toml")


def mutate(scratch: Path, name: str) -> str | None:
    """Write mutant ``name`` into the scratch copy; return why not, or None."""
    shown = subprocess.run(
        [str(Path(sys.executable).parent / "mutmut"), "show", name], cwd=ROOT, capture_output=True, text=True
    ).stdout.splitlines()
    path = next((line[4:] for line in shown if line.startswith("--- ")), None)
    body = [line for line in shown if line[:1] in " +-" and not line.startswith(("--- ", "+++ "))]
    if path is None or not body:
        return "mutmut shows no diff"
    original = "\n".join(line[1:] for line in body if line[0] in " -")
    mutant = "\n".join(line[1:] for line in body if line[0] in " +")
    source = (scratch / path).read_text()
    if source.count(original) != 1:  # A method: mutmut shows it without its class's indentation.
        original, mutant = (
            "\n".join("    " + line if line else line for line in text.split("\n"))
            for text in (original, mutant)
        )
    if source.count(original) != 1:
        return f"the function occurs {source.count(original)} times in {path}"
    (scratch / path).write_text(source.replace(original, mutant))
    return None


def recheck(name: str, test: str) -> bool:
    """Whether ``test`` fails with the mutant ``name`` applied."""
    with tempfile.TemporaryDirectory(prefix="mutation-recheck-") as scratch:
        for item in COPIED:
            source = ROOT / item
            if source.is_dir():
                shutil.copytree(source, Path(scratch) / item, ignore=shutil.ignore_patterns("__pycache__"))
            elif source.exists():
                shutil.copy2(source, Path(scratch) / item)
        problem = mutate(Path(scratch), name)
        if problem:
            print(f"NOT APPLIED {name}: {problem}")
            return False
        environment = {**os.environ, "PYTHONPATH": scratch}
        ran = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", test],
            cwd=scratch,
            env=environment,
            capture_output=True,
            text=True,
        )
    print(f"{'killed' if ran.returncode != 0 else 'SURVIVED'} {name} by {test}", flush=True)
    return ran.returncode != 0


def main() -> int:
    killed = tomllib.loads(EQUIVALENTS.read_text()).get("killed", {})
    chosen = {name: killed[name] for name in sys.argv[1:]} if sys.argv[1:] else killed
    failures = [name for name, test in chosen.items() if not recheck(name, test)]
    print(f"{len(chosen) - len(failures)} of {len(chosen)} mutants killed by their tests")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
