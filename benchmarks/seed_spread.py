"""Benchmark: how much a model's test accuracy moves from one seed to the next.

Trains the same model with several seeds (the seed sets the training/validation split,
the initial weights, the shuffling and the augmentation), one process per run, exactly as
``model_comparison.py`` trains it, and prints the test accuracy of each run with the
mean, the standard deviation and the range. ``INSTRUCTORS.md`` quotes these figures as
the results students should expect.

    FMNIST_DATA_DIR=../shared/data/fashion-mnist python benchmarks/seed_spread.py --model baseline

Writes ``benchmarks/results/seed_spread_<model>_<device>.json``. ``--quick`` trains on
small subsets for one epoch (a check that the script works, not a measurement). The
baseline takes about 3 minutes a seed on 2 CPU cores, the improved model about 17.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from model_comparison import MODELS, run_worker  # The same training and measuring, per seed.

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", choices=MODELS, default="baseline")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--quick", action="store_true", help="small subsets, one epoch: a smoke test")
    parser.add_argument(
        "--output", help="JSON file (default: benchmarks/results/seed_spread_<model>_<device>.json)"
    )
    arguments = parser.parse_args()
    if len(set(arguments.seeds)) < 2:
        parser.error("give at least two different seeds")

    runs = []
    for seed in arguments.seeds:
        print(f"Training {arguments.model} with seed {seed} ...", flush=True)
        row = run_worker(arguments.model, seed=seed, quick=arguments.quick)
        runs.append({"seed": seed, **row})
        print(f"  test accuracy {row['test_accuracy']:.4f} in {row['train_seconds']:.0f} s", flush=True)
        if len(runs) >= 2:  # Written after every seed, so that an interrupted run keeps what it measured.
            summary = summarize(arguments.model, runs, quick=arguments.quick)
            summary["seeds_planned"] = arguments.seeds
            default = HERE / "results" / f"seed_spread_{arguments.model}_{summary['device_kind']}.json"
            output = Path(arguments.output or default)
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(json.dumps(summary, indent=2) + "\n")

    summary = summarize(arguments.model, runs, quick=arguments.quick)
    print(f"\nSeed spread of {arguments.model}, {summary['mode']} mode, on {summary['device']}\n")
    print("| seed | test acc | test acc, flip avg | best val acc | training s |")
    print("|---:|---:|---:|---:|---:|")
    for run in runs:
        best = "n/a" if run["best_val_accuracy"] is None else f"{run['best_val_accuracy']:.4f}"
        print(
            f"| {run['seed']} | {run['test_accuracy']:.4f} | {run['test_accuracy_flip_average']:.4f} | "
            f"{best} | {run['train_seconds']:.0f} |"
        )
    print(
        f"\nTest accuracy over {len(runs)} seeds: mean {summary['test_accuracy_mean']:.4f}, "
        f"standard deviation {summary['test_accuracy_std']:.4f}, "
        f"range {summary['test_accuracy_min']:.4f} to {summary['test_accuracy_max']:.4f}"
    )
    print(f"Written: {output}")


def summarize(model: str, runs: list[dict], *, quick: bool) -> dict:
    """Summarizes the runs so far: each run's figures, the mean, spread and range."""
    accuracies = [run["test_accuracy"] for run in runs]
    flipped = [run["test_accuracy_flip_average"] for run in runs]
    return {
        "mode": "quick (smoke test, not a measurement)" if quick else "full",
        "model": model,
        "device": runs[0]["device"],
        "device_kind": runs[0]["device_kind"],
        "seeds": [run["seed"] for run in runs],
        "test_accuracy_mean": round(statistics.mean(accuracies), 4),
        "test_accuracy_std": round(statistics.stdev(accuracies), 4),
        "test_accuracy_min": min(accuracies),
        "test_accuracy_max": max(accuracies),
        "test_accuracy_flip_average_mean": round(statistics.mean(flipped), 4),
        "test_accuracy_flip_average_std": round(statistics.stdev(flipped), 4),
        "train_seconds_mean": round(statistics.mean(run["train_seconds"] for run in runs), 1),
        "runs": runs,
    }


if __name__ == "__main__":
    main()
