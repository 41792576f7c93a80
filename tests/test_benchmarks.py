"""The benchmark scripts run (in their quick settings) and print and write their figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def run_script(name: str, *arguments: str, data_dir: Path) -> str:
    environment = {**os.environ, "FMNIST_DATA_DIR": str(data_dir), "TF_CPP_MIN_LOG_LEVEL": "3"}
    completed = subprocess.run(
        [sys.executable, str(BENCHMARKS / name), *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


def test_data_loading_benchmark_prints_its_table(real_data_dir):
    output = run_script("data_loading.py", "--repeats", "1", data_dir=real_data_dir)
    assert "| load_fashion_mnist() (verify + decompress + parse) |" in output
    assert "Target: full load under 1.0 s:" in output


def test_baseline_benchmark_quick_setting(real_data_dir, tmp_path):
    output_file = tmp_path / "baseline.json"
    output = run_script(
        "baseline_training.py", "--quick", "--output", str(output_file), data_dir=real_data_dir
    )
    assert "| run | epochs | best epoch | train s |" in output
    figures = json.loads(output_file.read_text())
    assert figures["mode"].startswith("quick")
    assert [run["run"] for run in figures["runs"]] == [1, 2]
    accuracies = [run["test_accuracy"] for run in figures["runs"]]
    assert figures["test_accuracy_spread"] == round(max(accuracies) - min(accuracies), 4)
    assert figures["test_accuracy_spread"] <= 0.002  # Same seed: within issue 4's 0.2 points.
    assert figures["training_examples"] == 2_000


def test_model_comparison_quick_setting(real_data_dir, tmp_path):
    output_file = tmp_path / "comparison.json"
    output = run_script(
        "model_comparison.py",
        "--quick",
        "--models",
        "tutorial_dense",
        "improved",
        "--output",
        str(output_file),
        data_dir=real_data_dir,
    )
    assert "| model | parameters | epochs | s/epoch | train images/s | inference images/s |" in output
    assert "on CPU (" in output
    figures = json.loads(output_file.read_text())
    assert figures["mode"].startswith("quick")
    assert figures["device_kind"] == "cpu"
    rows = {row["model"]: row for row in figures["models"]}
    assert list(rows) == ["tutorial_dense", "improved"]
    assert rows["tutorial_dense"]["parameters"] == 101_770
    for row in rows.values():
        assert row["epochs_run"] == 1
        assert row["training_examples"] == 2_000
        assert row["train_images_per_second"] > 0
        assert row["inference_images_per_second"] > 0
        assert 0.0 <= row["test_accuracy"] <= 1.0
        assert row["peak_memory_mib"] > 100
        assert f"| {row['model']} | {row['parameters']:,} |" in output
