"""Summarise the last ``mutmut run``: the mutation score of each module, and its survivors.

``make mutation`` runs mutmut (configured in pyproject.toml, ``[tool.mutmut]``), then this
script, which writes ``benchmarks/results/mutation.md``. A mutant is one small bug planted
in the package (``>=`` turned into ``>``, a number plus one, an argument dropped...); the
unit tests that reach it run, and the mutant is killed when one of them fails.

Survivors named in ``benchmarks/mutation_equivalents.toml`` under ``[equivalent]`` are
equivalent mutants: code that behaves exactly like the original, so no test can tell them
apart. Each is listed there with one line saying why, and leaves the score's denominator:

    score = (killed + timed out) / (mutants - equivalent)

Survivors under ``[accepted]`` differ from the original in a way no test pins, for the
reason given; they stay in the denominator (they lower the score) and are listed apart.

Usage: python benchmarks/mutation_report.py [--seconds N] [--output PATH]
"""

from __future__ import annotations

import argparse
import datetime
import fnmatch
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = ROOT / "benchmarks" / "mutation_equivalents.toml"
OUTPUT = ROOT / "benchmarks" / "results" / "mutation.md"
#: The modules whose promises the course depends on: each must score at least this.
REQUIRED_SCORE = 0.90
REQUIRED = (
    "fmnist_utils.data",
    "fmnist_utils._files",
    "fmnist_utils.checks",
    "fmnist_utils._checks",
    "fmnist_utils.training",
    "fmnist_utils.evaluation",
    "tools.student",
)
DETECTED = {"killed", "timeout", "segfault", "caught by type check"}


def read_results() -> dict[str, str]:
    """Every mutant's name and status, as ``mutmut results --all true`` prints them."""
    output = subprocess.run(
        [str(Path(sys.executable).parent / "mutmut"), "results", "--all", "true"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    results = {}
    for line in output.splitlines():
        name, separator, status = line.strip().rpartition(": ")
        if separator and "__mutmut_" in name:
            results[name] = status
    if not results:
        sys.exit("No mutants found: run `mutmut run` first (make mutation does both).")
    return results


def module_of(mutant: str) -> str:
    """``fmnist_utils._files`` for ``fmnist_utils._files.x_read_idx_images__mutmut_3``."""
    return mutant.split(".x")[0]


def read_equivalents() -> tuple[dict[str, str], dict[str, str]]:
    """Mutant name (or fnmatch pattern) -> why: the equivalent ones, and the accepted ones."""
    table = tomllib.loads(EQUIVALENTS.read_text())
    return table.get("equivalent", {}), table.get("accepted", {})


def read_killed_later() -> dict[str, str]:
    """Survivors of the last run -> the test added afterwards that kills it
    (``benchmarks/mutation_recheck.py`` applies each mutant and runs its test)."""
    return tomllib.loads(EQUIVALENTS.read_text()).get("killed", {})


def why_equivalent(mutant: str, equivalents: dict[str, str]) -> str | None:
    for pattern, reason in equivalents.items():
        if fnmatch.fnmatchcase(mutant, pattern):
            return reason
    return None


def not_mutated() -> list[str]:
    """What the configuration keeps out of mutation testing, so the score says what it covers."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    pragmas = [
        f"`{path.relative_to(ROOT)}:{number}`"
        for path in sorted((ROOT / "fmnist_utils").glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "pragma: no mutate" in line
    ]
    return [
        "## What is not mutated",
        "",
        f"- Modules other than {', '.join(f'`{path}`' for path in config['only_mutate'])}.",
        "- Code outside functions (constants such as the recipes and digests): mutmut never mutates it.",
        f"- Lines matching {', '.join(f'`{pattern}`' for pattern in config['do_not_mutate_patterns'])}: "
        "lines that hold only the prose of a message.",
        f"- Lines with `# pragma: no mutate` ({', '.join(pragmas) or 'none'}): code that runs when the "
        "module is imported, before mutmut chooses a mutant; tests check what it sets.",
        "- Lines no unit test runs (`mutate_only_covered_lines`); the notebook, browser, launch and "
        "grading tests run in other processes, which never see a mutant.",
    ]


def git_commit() -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "fmnist_utils", "tests"], cwd=ROOT, capture_output=True, text=True
    )
    return commit.stdout.strip() + (" with uncommitted changes" if dirty.stdout.strip() else "")


def report(
    results: dict[str, str],
    equivalents: dict[str, str],
    seconds: float | None,
    accepted_reasons: dict[str, str] | None = None,
    killed_later: dict[str, str] | None = None,
) -> tuple[str, bool]:
    """The Markdown summary, and whether every required module reaches its score."""
    counts: dict[str, Counter] = defaultdict(Counter)
    equivalent, accepted, unexplained, later = [], [], [], []
    not_run: Counter = Counter()
    for mutant, status in sorted(results.items()):
        module = module_of(mutant)
        if status == "not checked":  # The run was stopped before this mutant.
            counts[module]["not run"] += 1
            not_run[mutant.split("__mutmut_")[0]] += 1
            continue
        counts[module]["mutants"] += 1
        if status in DETECTED:
            counts[module]["detected"] += 1
            counts[module]["timeout"] += status == "timeout"
        elif mutant in (killed_later or {}):
            counts[module]["detected"] += 1
            counts[module]["later"] += 1
            later.append((mutant, killed_later[mutant]))
        elif (reason := why_equivalent(mutant, equivalents)) is not None:
            counts[module]["equivalent"] += 1
            equivalent.append((mutant, reason))
        else:
            counts[module]["survived"] += 1
            if (reason := why_equivalent(mutant, accepted_reasons or {})) is not None:
                accepted.append((mutant, reason))
            else:
                unexplained.append((mutant, status))

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Mutation testing: last result",
        "",
        f"Run on {now}, commit {git_commit()}, by `make mutation` (mutmut; configuration in",
        "pyproject.toml, `[tool.mutmut]`)"
        + (f"; it took {seconds / 60:.0f} minutes on this machine." if seconds else "."),
        "",
        "Score = (killed + timed out) / (mutants - equivalent). Required: "
        f"{REQUIRED_SCORE:.0%} on {', '.join(f'`{m}`' for m in REQUIRED)}.",
        "",
        "| module | mutants run | killed | of which timed out | of which by later tests | equivalent "
        "| survived | score | not run |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    all_met = True
    for module in sorted(counts):
        count = counts[module]
        scored = count["mutants"] - count["equivalent"]
        score = count["detected"] / scored if scored else 1.0
        met = score >= REQUIRED_SCORE and not count["not run"]
        flag = "" if module not in REQUIRED else (" ✓" if met else " ✗ below the requirement or incomplete")
        all_met &= met or module not in REQUIRED
        lines.append(
            f"| `{module}` | {count['mutants']} | {count['detected']} | {count['timeout']} | "
            f"{count['later']} | "
            f"{count['equivalent']} | {count['survived']} | {score:.1%}{flag} | {count['not run']} |"
        )
    if not_run:
        lines += ["", f"## Not run: the run was stopped first ({sum(not_run.values())})", ""]
        lines += [f"- `{function}`: {count}" for function, count in sorted(not_run.items())]
    lines += ["", *not_mutated()]
    lines += ["", f"## Survivors not explained ({len(unexplained)})", ""]
    lines += [f"- `{mutant}` ({status}): `mutmut show {mutant}`" for mutant, status in unexplained] or [
        "None."
    ]
    lines += [
        "",
        f"## Survivors accepted, not equivalent: they count against the score ({len(accepted)})",
        "",
    ]
    lines += [f"- `{mutant}`: {reason}" for mutant, reason in accepted] or ["None."]
    lines += [
        "",
        f"## Killed by tests added after the run ({len(later)}): `python benchmarks/mutation_recheck.py` "
        "writes each mutant into a scratch copy and runs its test, which must fail",
        "",
    ]
    lines += [f"- `{mutant}`: `{test}`" for mutant, test in later] or ["None."]
    lines += ["", f"## Survivors accepted as equivalent ({len(equivalent)})", ""]
    lines += [f"- `{mutant}`: {reason}" for mutant, reason in equivalent] or ["None."]
    return "\n".join(lines) + "\n", all_met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, help="how long mutmut ran, for the report")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--note", default="", help="a line to add under the heading (how the run was made)")
    arguments = parser.parse_args()
    equivalents, accepted = read_equivalents()
    text, all_met = report(read_results(), equivalents, arguments.seconds, accepted, read_killed_later())
    if arguments.note:
        heading, rest = text.split("\n\n", 1)
        text = f"{heading}\n\n{arguments.note}\n\n{rest}"
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(text)
    print(text)
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
