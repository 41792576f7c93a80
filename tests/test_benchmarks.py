"""The benchmark scripts run (in their quick settings) and print and write their figures."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def load_benchmark(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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
        "--seeds",
        "42",
        "--output",
        str(output_file),
        data_dir=real_data_dir,
    )
    assert "| model | seeds | training s | vs improved_before | test acc, chosen | plain |" in output
    assert "| model | parameters | train images/s | inference images/s | training GFLOP/s |" in output
    assert "on CPU (" in output
    figures = json.loads(output_file.read_text())
    assert figures["mode"].startswith("quick")
    assert figures["device_kind"] == "cpu"
    assert figures["matmul_peak_gflops_per_second"] > 0
    runs = {run["model"]: run for run in figures["runs"]}
    assert list(runs) == ["tutorial_dense", "improved"]
    assert runs["tutorial_dense"]["parameters"] == 101_770
    # Chance is 0.10: the dense model learns from one epoch, a model fed labels out of step does not.
    assert runs["tutorial_dense"]["test_accuracy"] > 0.3
    for run in runs.values():
        assert run["seed"] == 42
        assert run["epochs_run"] == 1
        assert run["training_examples"] == 2_000
        # One epoch of 2,000 images: the throughput follows from the time it took (the time is
        # rounded to 0.1 s, the throughput to a whole number).
        product = run["train_images_per_second"] * run["train_seconds"]
        assert abs(product - 2_000) <= 0.05 * run["train_images_per_second"] + run["train_seconds"]
        assert run["training_gflops_per_second"] > 0
        assert 0.0 <= run["test_accuracy"] <= 1.0
        chosen = run["test_accuracy_flip_average" if run["flip_average_chosen"] else "test_accuracy"]
        assert run["test_accuracy_chosen"] == chosen
        assert run["peak_memory_mib"] > 100
        assert f"| {run['model']} | {run['parameters']:,} |" in output
    assert [row["model"] for row in figures["models"]] == ["tutorial_dense", "improved"]

    # --update retrains only the models named and keeps the other runs as they were.
    output = run_script(
        "model_comparison.py",
        "--quick",
        "--models",
        "improved_refit",
        "--seeds",
        "42",
        "--update",
        "--output",
        str(output_file),
        data_dir=real_data_dir,
    )
    updated = {run["model"]: run for run in json.loads(output_file.read_text())["runs"]}
    assert list(updated) == ["tutorial_dense", "improved", "improved_refit"]
    assert updated["tutorial_dense"] == runs["tutorial_dense"]
    assert updated["improved"] == runs["improved"]
    refit = updated["improved_refit"]
    assert refit["validation_examples"] == 0
    assert refit["best_val_accuracy"] is None
    assert refit["flip_average_chosen"] is None
    assert refit["training_examples"] == 2_000
    assert "| improved_refit | 1 |" in output
    assert "| n/a | n/a | n/a | n/a |" in output  # No validation set: no time to any accuracy.


def _run(model: str, seed: int, seconds: float, accuracy: float, to_90: float | None) -> dict:
    return {
        "model": model,
        "seed": seed,
        "parameters": 10,
        "train_seconds": seconds,
        "train_images_per_second": 1_000,
        "inference_images_per_second": 5_000,
        "training_gflops_per_second": 50.0,
        "peak_memory_mib": 900,
        "test_accuracy": accuracy,
        "test_accuracy_flip_average": accuracy + 0.002,
        "test_accuracy_chosen": accuracy + 0.002,
        "seconds_to_90_val": to_90,
        "seconds_to_92_val": None,
        "seconds_to_93_val": None,
        "seconds_to_94_val": None,
        "validation_examples": 6_000,
    }


def test_model_comparison_summary_over_seeds(capsys):
    module = load_benchmark("model_comparison")
    runs = [
        _run("improved_before", 42, 900.0, 0.940, 100.0),
        _run("improved_before", 1, 1_100.0, 0.938, 120.0),
        _run("improved", 42, 300.0, 0.946, 50.0),
        _run("improved", 1, 200.0, 0.944, None),
    ]
    before, after = module.summarize(runs)
    assert before["time_relative_to_reference"] == 1.0
    assert after["time_relative_to_reference"] == 0.25  # 250 s against 1,000 s.
    assert after["seeds"] == [42, 1]
    assert after["test_accuracy"] == {"mean": 0.945, "min": 0.944, "max": 0.946}
    assert after["seconds_to_90_val"] == {"mean": 50.0, "reached": 1, "runs": 2}
    assert before["seconds_to_90_val"] == {"mean": 110.0, "reached": 2, "runs": 2}
    assert after["seconds_to_94_val"] == {"mean": None, "reached": 0, "runs": 2}
    module.print_tables([before, after], runs, peak=100.0)
    table = capsys.readouterr().out
    assert (
        "| improved | 2 | 250 | 0.25x | 94.70% (94.60%-94.80%) | 94.50% (94.40%-94.60%) | 50 (1 of 2) |"
        in table
    )
    assert "| improved_before | 2 | 1,000 | 1.00x |" in table
    assert "| 50.0 | 50.0% | 900 |" in table  # 50 GFLOP/s of a 100 GFLOP/s peak.


def test_model_comparison_goal_verdicts():
    module = load_benchmark("model_comparison")
    row = {
        "model": "improved",
        "train_seconds": 540.0,
        "test_accuracy_chosen": {"mean": 0.9455, "min": 0.9431, "max": 0.9480},
    }
    (line,) = module.goal_verdicts([row, {"model": "baseline"}])  # Improved models only.
    assert line.startswith("Goal (improved) mean >= 94.5%, no seed under 94.2%, in <= 10 min")
    assert ": met (94.55% (94.31%-94.80%), 9.0 min)" in line
    low_seed = {**row, "test_accuracy_chosen": {"mean": 0.9455, "min": 0.9410, "max": 0.9500}}
    assert "NOT met" in module.goal_verdicts([low_seed])[0]
    too_slow = {**row, "train_seconds": 660.0}
    assert "NOT met" in module.goal_verdicts([too_slow])[0]


def test_model_comparison_update_needs_an_earlier_run(tmp_path):
    module = load_benchmark("model_comparison")
    with pytest.raises(SystemExit, match="run without --update first"):
        module._merge_runs(tmp_path / "missing.json", [], mode="full")
    earlier = tmp_path / "earlier.json"
    earlier.write_text(json.dumps({"mode": "full", "runs": []}))
    with pytest.raises(SystemExit, match="holds a full run, not a quick"):
        module._merge_runs(earlier, [], mode="quick")


def test_model_comparison_tutorial_models_match_the_tutorials():
    import numpy as np

    module = load_benchmark("model_comparison")
    dense = module.build_tutorial_dense()
    # Flatten 784 -> Dense 128 -> Dense 10.
    assert dense.count_params() == (784 * 128 + 128) + (128 * 10 + 10) == 101_770
    images = np.zeros((4, 28, 28, 1), dtype=np.uint8)
    np.testing.assert_allclose(np.asarray(dense(images)).sum(axis=1), 1.0, rtol=1e-5)
    cnn = module.build_tutorial_cnn()
    shapes = [cnn.get_layer(f"pool{block}").output.shape[1:] for block in (1, 2, 3)]
    assert shapes == [(13, 13, 32), (5, 5, 64), (1, 1, 128)]  # No padding: the maps shrink.
    convs = (9 * 1 + 1) * 32 + (9 * 32 + 1) * 64 + (9 * 64 + 1) * 128
    assert cnn.count_params() == convs + (128 * 128 + 128) + (128 * 10 + 10) == 110_474
    assert [cnn.get_layer(f"dropout{block}").rate for block in (1, 2, 3)] == [0.25] * 3
    assert np.asarray(cnn(images)).shape == (4, 10)
    assert module.build_model("baseline", 42) is None  # The recipe's own model.


def test_model_comparison_seconds_to_reach():
    from types import SimpleNamespace

    module = load_benchmark("model_comparison")
    result = SimpleNamespace(history={"val_accuracy": [0.80, 0.91, 0.90, 0.93]}, elapsed=[1.0, 2.0, 3.0, 4.0])
    assert module.seconds_to_reach(result, 0.91) == 2.0  # The first epoch that reached it.
    assert module.seconds_to_reach(result, 0.0) == 1.0
    assert module.seconds_to_reach(result, 0.94) is None
    assert module.seconds_to_reach(result, 0.85, metric="val_accuracy") == 2.0
    with pytest.raises(KeyError, match="val_f1"):
        module.seconds_to_reach(result, 0.5, metric="val_f1")


def test_seed_spread_quick_setting(real_data_dir, tmp_path):
    output_file = tmp_path / "spread.json"
    output = run_script(
        "seed_spread.py",
        "--quick",
        "--model",
        "tutorial_dense",
        "--seeds",
        "1",
        "2",
        "--output",
        str(output_file),
        data_dir=real_data_dir,
    )
    assert "| seed | test acc | test acc, flip avg | best val acc | training s |" in output
    figures = json.loads(output_file.read_text())
    assert figures["mode"].startswith("quick")
    assert [run["seed"] for run in figures["runs"]] == [1, 2]
    accuracies = [run["test_accuracy"] for run in figures["runs"]]
    assert figures["test_accuracy_min"] == min(accuracies)
    assert figures["test_accuracy_max"] == max(accuracies)
    assert figures["test_accuracy_mean"] == round(sum(accuracies) / 2, 4)
    assert f"Test accuracy over 2 seeds: mean {figures['test_accuracy_mean']:.4f}" in output


def test_notebook_memory_quick_setting_measures_and_saves_a_copy(real_data_dir, tmp_path):
    notebook = tmp_path / "00_getting_started.ipynb"
    notebook.write_text((BENCHMARKS.parent / "solutions" / notebook.name).read_text())
    before = json.loads(notebook.read_text())
    output_file = tmp_path / "memory.json"
    output = run_script(
        "notebook_memory.py",
        "--quick",
        "--memory-limit",
        "2GiB",
        "--save",
        "--output",
        str(output_file),
        str(notebook),
        data_dir=real_data_dir,
    )
    assert (
        "| notebook | peak memory MiB | peak GB | run s | cells that raised the peak most | under 1.5 GB |"
        in output
    )
    assert "MEM_LIMIT 2.00 GiB" in output
    figures = json.loads(output_file.read_text())
    (row,) = figures["notebooks"]
    assert 200 * 2**20 < row["peak_rss_bytes"] < 1.5e9  # TensorFlow alone takes hundreds of MiB.
    assert row["under_target"] is True
    assert row["cells_that_raised_the_peak_most"][0]["cell"] == 4  # The Setup cell imports TensorFlow.
    # --save wrote the run back, and added nothing: same cells, fresh outputs, the small-machine note.
    after = json.loads(notebook.read_text())
    assert [c["source"] for c in after["cells"]] == [c["source"] for c in before["cells"]]
    code = [c for c in after["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1))
    setup_output = "".join("".join(o.get("text", [])) for o in code[0]["outputs"])
    assert "Small machine (under 3 GiB of memory)" in setup_output


def test_notebook_memory_parses_sizes():
    module = load_benchmark("notebook_memory")
    assert module.parse_size("2GiB") == 2 * 2**30
    assert module.parse_size("1.5GB") == 1_500_000_000
    assert module.parse_size("2147483648") == 2**31
    with pytest.raises(Exception, match="not a memory size"):
        module.parse_size("two gigabytes")


def test_training_memory_quick_setting(real_data_dir, tmp_path):
    output_file = tmp_path / "training_memory.json"
    output = run_script("training_memory.py", "--quick", "--output", str(output_file), data_dir=real_data_dir)
    assert (
        "| after | capped + released MiB | capped + released s | capped MiB | capped s "
        "| glibc default MiB | glibc default s |"
    ) in output
    figures = json.loads(output_file.read_text())
    assert figures["mode"].startswith("quick")
    assert figures["models"] == ["baseline", "lighter dropout"]
    assert list(figures["runs"]) == ["capped + released", "capped", "glibc default"]
    for setting in figures["runs"]:
        stages = [line["stage"] for line in figures["runs"][setting]]
        assert stages == ["data loaded", 0, 1]
        peaks = [line["VmHWM"] for line in figures["runs"][setting]]
        assert peaks == sorted(peaks)  # A peak never goes down.
        assert 200 < peaks[0] < peaks[-1] < 1536  # TensorFlow alone takes hundreds of MiB.
        assert figures["peak_mib"][setting] == peaks[-1]
    assert f"Peak: {figures['peak_mib']['capped + released']:,} MiB capped + released" in output


def test_mutation_report_scores_each_module_and_lists_every_survivor():
    report = load_benchmark("mutation_report")
    results = {
        **{f"fmnist_utils.data.x_f__mutmut_{n}": "killed" for n in range(1, 18)},
        "fmnist_utils.data.x_f__mutmut_18": "timeout",
        "fmnist_utils.data.x_g__mutmut_1": "survived",
        "fmnist_utils.data.x_g__mutmut_2": "survived",
        "fmnist_utils.checks.xǁCheckResultǁ__repr____mutmut_1": "killed",
        "fmnist_utils.checks.x_h__mutmut_1": "no tests",
    }
    equivalents = {"fmnist_utils.data.x_g__mutmut_1": "the default equals the value passed"}
    accepted = {"fmnist_utils.checks.x_h__*": "a matter of taste"}
    text, all_met = report.report(results, equivalents, seconds=600, accepted_reasons=accepted)
    # data: 18 detected of 20, one equivalent: 18 / 19.
    assert "| `fmnist_utils.data` | 20 | 18 | 1 | 0 | 1 | 1 | 94.7% ✓ | 0 |" in text
    assert (
        "| `fmnist_utils.checks` | 2 | 1 | 0 | 0 | 0 | 1 | 50.0% ✗ below the requirement or incomplete | 0 |"
        in text
    )
    assert not all_met
    assert (
        "- `fmnist_utils.data.x_g__mutmut_2` (survived): `mutmut show fmnist_utils.data.x_g__mutmut_2`"
        in text
    )
    assert "- `fmnist_utils.checks.x_h__mutmut_1`: a matter of taste" in text  # Listed, still counted.
    assert "- `fmnist_utils.data.x_g__mutmut_1`: the default equals the value passed" in text
    assert "it took 10 minutes" in text
    assert report.why_equivalent("tools.student.x_w__mutmut_3", {"tools.student.x_w__*": "why"}) == "why"
    _, met = report.report({"fmnist_utils.data.x_f__mutmut_1": "killed"}, {}, seconds=None)
    assert met
    stopped = {"fmnist_utils.data.x_f__mutmut_1": "killed", "fmnist_utils.data.x_g__mutmut_1": "not checked"}
    text, met = report.report(stopped, {}, seconds=None)
    assert not met  # Incomplete: a mutant was not run.
    assert (
        "| `fmnist_utils.data` | 1 | 1 | 0 | 0 | 0 | 0 | 100.0% ✗ below the requirement or incomplete | 1 |"
        in text
    )
    assert "- `fmnist_utils.data.x_g`: 1" in text
    # A survivor that a test written after the run kills (checked by mutation_recheck.py) counts as killed.
    later = {"fmnist_utils.data.x_g__mutmut_2": "tests/test_x.py::test_g"}
    text, _ = report.report(results, equivalents, seconds=None, accepted_reasons=accepted, killed_later=later)
    assert "| `fmnist_utils.data` | 20 | 19 | 1 | 1 | 1 | 0 | 100.0% ✓ | 0 |" in text
    assert "- `fmnist_utils.data.x_g__mutmut_2`: `tests/test_x.py::test_g`" in text


def test_training_profile_counts_flops():
    from keras import layers

    module = load_benchmark("training_profile")
    conv = layers.Conv2D(64, 3, padding="same")
    # 14 x 14 outputs x 64 filters x 3 x 3 x 32 inputs multiply-adds, 2 FLOP each.
    assert module.layer_flops(conv, (None, 14, 14, 32), (None, 14, 14, 64)) == 2 * 14 * 14 * 64 * 9 * 32
    assert module.layer_flops(layers.Dense(10), (None, 128), (None, 10)) == 2 * 128 * 10
    assert module.layer_flops(layers.ReLU(), (None, 14, 14, 32), (None, 14, 14, 32)) == 0


def test_training_profile_quick_setting(real_data_dir):
    output = run_script(
        "training_profile.py",
        "--models",
        "baseline",
        "--repeats",
        "1",
        "--images",
        "512",
        data_dir=real_data_dir,
    )
    assert "## baseline: batch 128, 421,642 parameters, 8.5 MFLOP per image forward" in output
    assert "| part | ms per step | share of real step | training MFLOP per image | GFLOP/s |" in output
    for part in ("conv2 (Conv2D) |", "optimizer update (Adam) |", "input pipeline", "overhead (real step"):
        assert part in output
    conv2 = next(line for line in output.splitlines() if line.startswith("| conv2 (Conv2D) |"))
    assert "| 21.68 |" in conv2  # 3 x 7.2 MFLOP forward, for training.


def test_suite_time_sums_each_file_and_notebook_from_the_junit_report(tmp_path):
    suite_time = load_benchmark("suite_time")
    report = tmp_path / "report.xml"
    report.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="tests.test_grading" name="test_round_trip" time="80.5" />'
        '<testcase classname="tests.test_grading" name="test_late" time="9.5" />'
        '<testcase classname="solutions.03_training.ipynb" name="Cell 6" time="16.25" />'
        '<testcase classname="tests.test_plots" name="test_one" time="0.75">'
        '<skipped message="no" /></testcase>'
        "</testsuite></testsuites>"
    )
    cases = suite_time.read_junit(report)
    assert [case["outcome"] for case in cases] == ["passed", "passed", "passed", "skipped"]
    assert suite_time.per_file(cases) == [
        {"file": "tests/test_grading.py", "tests": 2, "seconds": 90.0},
        {"file": "solutions/03_training.ipynb", "tests": 1, "seconds": 16.25},
        {"file": "tests/test_plots.py", "tests": 1, "seconds": 0.75},
    ]
    printed = suite_time.report(cases, wall_seconds=120.0)
    assert printed.startswith("4 tests, 107.0 s in tests, 120.0 s wall")
    assert "| tests/test_grading.py | 2 | 90.0 | 84% |" in printed
    assert "     80.5 s  tests/test_grading.py::test_round_trip" in printed
