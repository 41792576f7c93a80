"""Write notebooks/06_from_notebook_to_app.ipynb from the cells below (no outputs).

Run it, then `ruff format notebooks/06_from_notebook_to_app.ipynb` (the committed notebook is
formatted), then `make execute NOTEBOOKS=notebooks/06_from_notebook_to_app.ipynb` to fill in
the outputs. Kept so that the notebook's source can be reviewed as plain Python; it writes
the notebook without outputs, so edit text in both, or run it before re-executing.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NAME = "06_from_notebook_to_app.ipynb"
COLAB = f"https://colab.research.google.com/github/fmnist-course/fashion-mnist-cnn/blob/main/notebooks/{NAME}"
BINDER = f"https://mybinder.org/v2/gh/fmnist-course/fashion-mnist-cnn/main?urlpath=lab/tree/notebooks/{NAME}"


def md(text: str):
    return new_markdown_cell(text.strip("\n"))


def code(text: str, **metadata):
    cell = new_code_cell(text.strip("\n"))
    cell.metadata.update(metadata)
    return cell


def solution(grade_id: str, text: str, *, points: int | None = None):
    nbgrader = {"grade": points is not None, "grade_id": grade_id, "locked": False, "schema_version": 3}
    nbgrader |= {"solution": True, "task": False} | ({"points": points} if points else {})
    return code(text, nbgrader=nbgrader, tags=["solution"])


def check(grade_id: str, text: str):
    nbgrader = {"grade": True, "grade_id": grade_id, "locked": True, "points": 2, "schema_version": 3}
    return code(text, nbgrader=nbgrader | {"solution": False, "task": False}, tags=["check"])


CELLS = [
    md(f"""
# 06 · From notebook to app

[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({COLAB}) [![Binder](https://mybinder.org/badge_logo.svg)]({BINDER})

## Overview

So far the model has lived in a Jupyter kernel. This notebook takes the course's trained
model out of it: saves it in the formats other programs load (a `.keras` file, a
TensorFlow SavedModel for TensorFlow Serving, ONNX for ONNX Runtime, LiteRT for phones),
checks that each one gives the same answers on the test set, shrinks it to 8-bit numbers
with post-training quantization, and measures what every choice costs in size, accuracy
and speed on this CPU. Then it puts the model behind a web page where anyone can upload a
photo, and checks that the page copes with bad files and with many users at once.

## What you will learn

- What the model formats are for, and how to check that an exported model still gives the
  same answers (agreement rate, largest probability difference).
- What post-training quantization does (dynamic range, full integer) and why full-integer
  quantization needs representative *training* images.
- How to measure a model's single-image latency and batch throughput, and what they mean
  for a phone, a browser or a server.
- How to build a small web demo with Gradio, and how to test it with bad uploads and a
  burst of concurrent requests.

## Prerequisites

Notebooks 03 (it saves the baseline model) and 05 (it saves the improved model, which this
notebook uses when it finds it), and 04 (preparing a photo for the model, Grad-CAM).

This notebook trains nothing when notebook 05 or 03 saved its model; otherwise it first
trains notebook 03's baseline (about 3 minutes in full mode, seconds in quick mode). It
needs the course's optional **deploy** extra: ONNX, ONNX Runtime, LiteRT and Gradio
(`make deploy`, or `pip install -e ".[deploy]"`; Binder and the Colab Setup cell install
it). It runs in about a minute in full mode on a 2-core CPU (53 to 80 s measured), 25 to
40 s in quick mode.
"""),
    md("""
## Setup

Run this cell first. It calls `fmnist_utils.setup`, which starts TensorFlow without its
start-up log lines, checks the TensorFlow and Keras versions, seeds every random number
generator, sets the plot style and says whether quick mode is on; then it checks that the
deploy extra is installed and imports what the notebook uses.
"""),
    code("""
import sys

if "google.colab" in sys.modules:  # On Colab only: install the course's helper package.
    %pip install --quiet "fmnist_utils[deploy] @ git+https://github.com/fmnist-course/fashion-mnist-cnn"

import fmnist_utils

config = fmnist_utils.setup(seed=42)  # First: it seeds everything and starts TensorFlow quietly.

from fmnist_utils import deploy

deploy.check_extras()  # Stops here, saying what to install, if the deploy extra is missing.

import ai_edge_litert
import gradio
import matplotlib.pyplot as plt
import numpy as np
import onnxruntime
import pandas as pd
import tf2onnx
from fmnist_utils import checks, data, demo, training
from PIL import Image

print(
    f"tf2onnx {tf2onnx.__version__}, ONNX Runtime {onnxruntime.__version__}, "
    f"LiteRT {ai_edge_litert.__version__}, Gradio {gradio.__version__}"
)
"""),
    md("""
## Load the trained model

The improved model of notebook 05 if it was saved, else notebook 03's baseline, through
`training.load_or_train_baseline` as in notebook 04: if neither is there (you opened this
notebook first, or on Colab, where each notebook gets its own machine), it trains the
baseline with notebook 03's recipe, which takes about 3 minutes (seconds in quick mode).
Everything below works the same for either model.
"""),
    code("""
(train_images, train_labels), (test_images, test_labels) = data.load_fashion_mnist()
test_images, test_labels = config.subset(test_images, test_labels, "test")

improved_path = config.model_path("improved_cnn")  # Notebook 05's model, if it was trained.
if improved_path.exists():
    model = training.load_model(improved_path)
    print(f"loaded {improved_path}")
else:
    model = training.load_or_train_baseline(train_images, train_labels)
print(f"{model.name}: {model.count_params():,} parameters")

export_dir = config.run_dir("formats", folder="exported")  # models/, exported/: git-ignored.
export_dir.mkdir(parents=True, exist_ok=True)
print(f"exported files go to {export_dir}")
"""),
    md("""
Every format below is compared with the Keras model itself, the *reference*. A
**predictor** is a function from `uint8` images to class probabilities;
`deploy.keras_predictor` wraps the Keras model, and the package has one for each runtime,
so they can all be measured the same way.
"""),
    code("""
keras_predict = deploy.keras_predictor(model)
reference = keras_predict(test_images)
reference_accuracy = np.mean(reference.argmax(axis=1) == test_labels)
print(f"Keras: test accuracy {reference_accuracy:.4f} on {len(test_labels):,} images")
"""),
    md("""
## Save and reload the `.keras` file

A `.keras` file is a zip archive of the architecture (JSON), the weights and the
optimizer's state: everything needed to go on *training*. Only Keras reads it. Reloading
must give exactly the same probabilities, bit for bit. `training.load_model` loads it with
Keras' safe mode on (notebook 04).
"""),
    code("""
keras_file = export_dir / "model.keras"
model.save(keras_file)
reloaded = training.load_model(keras_file)
same = np.array_equal(deploy.keras_predictor(reloaded)(test_images), reference)
print(f"reloaded .keras file gives identical probabilities: {same}")
"""),
    md("""
## Export a SavedModel for TensorFlow Serving

A TensorFlow **SavedModel** is the inference graph and its weights, without the
optimizer, in a folder that TensorFlow Serving, TensorFlow.js's converter and the LiteRT
converter read, from any language. Its `serve` endpoint takes a batch of float32 images
with pixels 0 to 255, like the model.

Keras' `model.export(path)` writes one, but calls the model in its *default* mode, and
Keras' augmentation layers (`RandomFlip`, notebook 05) are **on** by default: the improved
model would flip a random half of the images it serves, and answer differently each time.
`deploy.export_saved_model` exports the model called with `training=False` (with
`keras.export.ExportArchive`, which `model.export` uses inside).

Two numbers say whether an exported model still behaves like the original: the share of
test images given the same class (**agreement**) and the largest difference between any
two probabilities.
"""),
    code("""
saved_model_dir = deploy.export_saved_model(model, export_dir / "saved_model")
print(sorted(path.name for path in saved_model_dir.iterdir()))
saved_model_predict = deploy.saved_model_predictor(saved_model_dir)
agreement, difference = deploy.agreement(reference, saved_model_predict(test_images))
print(f"SavedModel: agreement {agreement:.2%}, largest probability difference {difference:.1e}")
"""),
    md("""
## Convert to ONNX and run it with ONNX Runtime

**ONNX** is a format shared by the frameworks (PyTorch, TensorFlow, scikit-learn...):
`tf2onnx` translates the model's TensorFlow graph into ONNX operators (it is also what
Keras' own `model.export(format="onnx")` calls). **ONNX Runtime** runs it from Python, C++,
C#, Java, or in a browser (onnxruntime-web), without TensorFlow.
"""),
    code("""
onnx_file = deploy.export_onnx(model, export_dir / "model.onnx")
onnx_predict = deploy.onnx_predictor(onnx_file)
agreement, difference = deploy.agreement(reference, onnx_predict(test_images))
print(f"ONNX Runtime: agreement {agreement:.2%}, largest probability difference {difference:.1e}")
"""),
    md("""
## Convert to LiteRT

**LiteRT** (formerly TensorFlow Lite) is the format for phones and small devices: one
flat `.tflite` file, run by a small interpreter (the `ai-edge-litert` package here;
TensorFlow's own `tf.lite.Interpreter` is deprecated). The converter reads the SavedModel.
"""),
    code("""
litert_file = deploy.convert_to_litert(saved_model_dir, export_dir / "model_float32.tflite")
litert_predict = deploy.litert_predictor(litert_file)
agreement, difference = deploy.agreement(reference, litert_predict(test_images))
print(f"LiteRT float32: agreement {agreement:.2%}, largest probability difference {difference:.1e}")
"""),
    md("""
## Quantize the model to 8 bits

The weights are 32-bit floats. **Post-training quantization** stores them as 8-bit
integers, a quarter of the size, with one scale per tensor (or per channel) to map them
back:

- **Dynamic range**: the weights are stored in int8; the activations stay float. It needs
  no data.
- **Full integer (int8)**: weights *and* activations are int8, so the whole network runs
  in integer arithmetic, as phone accelerators (NPUs, DSPs) and microcontrollers require.
  The range of every activation must be measured first, on a few hundred
  **representative images**. They come from the *training* set: calibrating on test
  images would let the test set shape the model.

The int8 model takes the raw `uint8` pixels and returns probabilities in steps of 1/256.
"""),
    code("""
representative_images = train_images[np.random.default_rng(42).permutation(len(train_images))[:500]]
dynamic_file = deploy.convert_to_litert(
    saved_model_dir, export_dir / "model_dynamic.tflite", quantization="dynamic"
)
int8_file = deploy.convert_to_litert(
    saved_model_dir,
    export_dir / "model_int8.tflite",
    quantization="int8",
    representative_images=representative_images,
)
for name, path in [("dynamic range", dynamic_file), ("int8", int8_file)]:
    agreement, difference = deploy.agreement(reference, deploy.litert_predictor(path)(test_images))
    print(f"LiteRT {name}: agreement {agreement:.2%}, largest probability difference {difference:.3f}")
"""),
    md("""
## Compare the formats

One table, measured here: the size of each file, its test accuracy, its agreement with
the Keras model, the time to classify **one** image (the median of 100: what a user
waits for) and the number of images per second in batches of 256 (what a server can
handle). Each runtime uses this machine's CPU cores.
"""),
    code("""
predictors = {
    "Keras .keras": (keras_file, keras_predict),
    "SavedModel": (saved_model_dir, saved_model_predict),
    "ONNX": (onnx_file, onnx_predict),
    "LiteRT float32": (litert_file, litert_predict),
    "LiteRT dynamic range": (dynamic_file, deploy.litert_predictor(dynamic_file)),
    "LiteRT int8": (int8_file, deploy.litert_predictor(int8_file)),
}
rows = {}
for name, (path, predict) in predictors.items():
    probabilities = predict(test_images)
    agreement, difference = deploy.agreement(reference, probabilities)
    speed = deploy.measure_speed(predict, test_images, repeats=100)
    rows[name] = {
        "size (MB)": deploy.file_size(path) / 1e6,
        "test accuracy": np.mean(probabilities.argmax(axis=1) == test_labels),
        "agreement": agreement,
        "max difference": difference,
        "latency (ms)": speed.latency_ms,
        "images/s": speed.throughput,
    }
table = pd.DataFrame(rows).T
table.round({"size (MB)": 2, "test accuracy": 4, "agreement": 4, "latency (ms)": 2, "images/s": 0})
"""),
    code("""
figure, axes = plt.subplots(1, 2, figsize=(10, 3))
table["size (MB)"].plot.barh(ax=axes[0], title="file size (MB)")
table["latency (ms)"].plot.barh(ax=axes[1], title="one image (ms)", logx=True)
axes[1].set_yticklabels([])
figure.tight_layout()
plt.show()
"""),
    md("""
In the full run (the saved outputs: notebook 05's improved model, 10,000 test images, a
2-core CPU):

- **Size.** The `.keras` file is the largest (3.6 MB): it also holds the optimizer's state
  (Adam keeps two numbers per weight). The SavedModel (2.5 MB) stores each weight twice,
  in the model's variables and in a flat list of all of them, which Keras' export adds.
  ONNX and LiteRT hold each of the 290,000 weights once, in 1.16 MB; 8-bit quantization
  cuts that to 0.30 and 0.31 MB, about a quarter. For an app
  that ships the model inside it, or a web page that downloads it, this is the number that
  matters.
- **Accuracy.** The float formats agree with Keras on every test image (differences of
  about 1e-6: rounding). The quantized models change the class of 7 (dynamic range) and 52
  (int8) images in 10,000, and their test accuracy by less than a tenth of a point (93.26%
  and 93.13% against 93.22%): the price of 8 bits is small for this model.
- **Latency.** Calling Keras for one image costs 11 to 19 ms of Python and TensorFlow
  overhead, the SavedModel 1 to 2 ms; ONNX Runtime and LiteRT answer in 0.05 to 0.25 ms. On
  a phone, LiteRT with the int8 model is what runs on its NPU or DSP; in a browser, ONNX
  Runtime Web (or TensorFlow.js, from the SavedModel) runs the model on the visitor's
  machine, so the picture never leaves it.
- **Throughput.** In batches, where the convolutions dominate, the float runtimes are
  within a factor of three of each other (3,200 to 9,500 images a second); the 8-bit models
  do 16,000 to 26,000 on this machine. How much 8 bits gain depends on the processor's
  8-bit instructions: less on an older CPU, more on phone accelerators built for integers.

Your numbers differ with the processor and from run to run (the ranges above are from
eight full runs on one shared 2-core machine); the ratios between rows are what to read.
"""),
    md("""
## Serve the model in a web page

`demo.build_demo` builds a page with **Gradio**: upload a photo (or pick a test image), and
see the three most likely classes and the 28x28 image as the model sees it, with its
Grad-CAM map on top (notebook 04). The photo is prepared by `data.load_image_file`,
like in notebook 04, so the page gives the same clear messages for bad files.

`demo.launch` starts it on this machine and shows it below; open the printed address in a
new tab for a full page. On Colab, Gradio makes a public link itself; on Binder, the
page is reached through JupyterHub's proxy (the cell prints the address). From a terminal,
`make demo` serves the saved model the same way.
"""),
    code("""
app = demo.launch(demo.build_demo(model, test_images, test_labels))
demo_url = app.local_url
"""),
    md("""
## Check the app with bad uploads

Students upload everything: text files with an image's name, empty files, huge photos,
16-bit scans, pictures with a transparent background. Each must get an answer or a message
that says what is wrong, and none may stop the server. Here are such files, and what the
page says for each (the same function the page calls). Two more are refused before the
model sees them, and tested in `tests/test_demo.py` rather than made here: uploads over
20 MB (Gradio's limit) and a "decompression bomb", a small file that claims 400
megapixels (making one takes 400 MB of memory, more than Binder can spare).
"""),
    code("""
uploads = config.work_dir / "pictures"
uploads.mkdir(exist_ok=True)
Image.fromarray(255 - test_images[0]).resize((280, 280)).save(uploads / "test_image_0.png")
Image.fromarray(test_images[1].astype(np.uint16) * 257).save(uploads / "sixteen_bit.png")
(uploads / "notes.png").write_text("this is text, not a picture")
(uploads / "empty.jpg").write_bytes(b"")
Image.new("RGBA", (60, 40), (255, 255, 255, 0)).save(uploads / "transparent.png")
photo = Image.new("RGB", (4000, 3000), "white")  # 12 megapixels: a dark block on white.
photo.paste((40, 40, 60), (1300, 400, 2700, 2600))
photo.save(uploads / "large_photo.jpg", quality=90)
"""),
    code("""
# NBVAL_CHECK_OUTPUT
for name in ["notes.png", "empty.jpg", "transparent.png"]:
    try:
        demo.classify_upload(model, uploads / name)
    except gradio.Error as error:
        print(f"{name}: {error.message.split(': ', 1)[1].split(' (')[0]}")
"""),
    code("""
for name in ["test_image_0.png", "sixteen_bit.png", "large_photo.jpg"]:
    scores, picture = demo.classify_upload(model, uploads / name)
    top = max(scores, key=scores.get)
    print(f"{name}: {top} ({scores[top]:.0%})")
figure, ax = plt.subplots(figsize=(3, 3))
ax.imshow(picture)  # The 28x28 image, blown up, with the Grad-CAM map on top.
ax.set_title("the page's picture for large_photo.jpg", fontsize=9)
ax.axis("off")
plt.show()
"""),
    md("""
The large photo is read at a reduced size while it is decoded, so 12 (or 48) megapixels
cost little memory. It shows no garment, only a dark block, and the model still names a
class, with little confidence: it knows ten classes and nothing else. A real app would
also say when a picture is unlike anything it was trained on.
"""),
    md("""
## Send the app a burst of requests

A class that tries the demo at the same moment is a burst of concurrent requests.
`demo.load_test` sends 200 uploads (good and bad pictures in turn) from 8 clients at once,
through the same programming interface the page uses, and counts what each file got back:
a prediction, an error message, or no answer at all (a failure). A good picture must get
predictions only: Gradio reports a crash of the page's function as an error too. Gradio
queues the requests and runs them one at a time, so the latency grows with the queue:
the median and the 95th percentile say what a user waits for.
"""),
    code("""
burst_files = [uploads / name for name in ["test_image_0.png", "sixteen_bit.png", "notes.png", "empty.jpg"]]
burst = demo.load_test(demo_url, burst_files, requests=40 if config.quick else 200, clients=8)
print(
    f"{burst.requests} requests in {burst.seconds:.1f} s; "
    f"latency median {burst.p50_ms:.0f} ms, 95th percentile {burst.p95_ms:.0f} ms"
)
pd.DataFrame(burst.answers).T.fillna(0).astype(int)  # What each file got back.
"""),
    md("""
In every full run we measured, each request got its answer (100 predictions, 100 error
messages) in 13.4 to 18.6 s for the 200, with a median wait of 0.52 to 0.66 s and a 95th
percentile of 0.60 to 0.93 s. Gradio runs one request at a time, 70 to 90 ms of the
server's time each: preparing the picture,
the prediction and the Grad-CAM map. With 8 clients, each waits for the 7 requests ahead
of it. A real service would send the prediction first and draw the picture on request,
or run several workers (`concurrency_limit` in Gradio).

Load tests find real bugs. The first version of this page lost about one request in 300:
Gradio saved each answer's picture in a file named after its content, so two users who
sent the same photo at the same moment got the same file, which Gradio rewrote while it
was still sending it to the first one. The page now sends the picture inside its answer
(`demo.picture_html`), and no request has been lost since.

Stop the server when you are done (the next `demo.launch` would also stop it):
"""),
    code("""
app.close()
"""),
    md("""
## Check the results
"""),
    code("""
assert table.loc[["SavedModel", "ONNX", "LiteRT float32"], "agreement"].eq(1.0).all(), (
    f"a float format disagrees with Keras:\\n{table['agreement']}"
)
assert (table.loc[["SavedModel", "ONNX", "LiteRT float32"], "max difference"] < 1e-4).all(), (
    f"a float format's probabilities differ from Keras':\\n{table['max difference']}"
)
# 8 bits: a few images in a thousand change class (0.9993 and 0.9948 in a full run).
assert (table.loc[["LiteRT dynamic range", "LiteRT int8"], "agreement"] > 0.98).all(), (
    f"quantization changed too many answers:\\n{table['agreement']}"
)
assert table.loc["LiteRT int8", "size (MB)"] < 0.35 * table.loc["LiteRT float32", "size (MB)"], (
    f"the int8 file is not about a quarter of the float one:\\n{table['size (MB)']}"
)
accuracy_drop = reference_accuracy - table.loc["LiteRT int8", "test accuracy"]
assert abs(accuracy_drop) < 0.01, f"int8 changed the test accuracy by {accuracy_drop:+.4f}"
good, bad = ["test_image_0.png", "sixteen_bit.png"], ["notes.png", "empty.jpg"]
assert all(set(burst.answers[name]) == {"prediction"} for name in good), (
    f"a good picture did not get a prediction every time: {burst.answers}, {burst.errors}"
)
assert all(set(burst.answers[name]) == {"message"} for name in bad), (
    f"a bad file did not get its message every time: {burst.answers}, {burst.errors}"
)
print("All checks passed.")
"""),
    md("""
## Summary

- A `.keras` file is for Keras (and for training on); a SavedModel for TensorFlow Serving
  and the converters; ONNX for ONNX Runtime in other languages and in the browser; LiteRT
  for phones. Check every export against the original: agreement and the largest
  probability difference.
- Quantizing to 8 bits made the model about four times smaller and changed 7 to 52 answers
  in 10,000 here; full-integer quantization calibrates its ranges on training images.
- Latency (one image) and throughput (batches) are different questions: the runtimes
  without Python overhead answer one image tens of times faster than Keras.
- A Gradio page puts the model in front of users in a few lines; test it like a user
  would, with bad files and with many requests at once.

## Exercises

Write your answer in the cell under each exercise, then run the check cell below it:
`fmnist_utils.checks` says whether your answer is correct, or gives a hint without giving
the answer away. Until the answer is correct the check cell fails, with the hint as its
error; it is also the cell that scores the exercise (2 points) when your instructor grades
the notebook. For an open-ended exercise the check lists what a good answer shows.

**Exercise 06.1.** How many times smaller is the full-integer (int8) LiteRT file than the
float32 LiteRT file? Store the ratio (a number above 1) in `size_ratio`, read from `table`.
"""),
    solution(
        "exercise_06_1",
        """
size_ratio = None
### BEGIN SOLUTION
size_ratio = table.loc["LiteRT float32", "size (MB)"] / table.loc["LiteRT int8", "size (MB)"]
print(f"the int8 file is {size_ratio:.2f} times smaller")
# Not quite 4: the graph, the scales and zero points, and the biases (kept in 32 bits) remain.
### END SOLUTION
""",
    ),
    check(
        "check_06_1",
        """
# NBVAL_CHECK_OUTPUT
# Graded, 2 points: this cell fails with a hint until your answer is correct.
verdict = checks.exercise_06_1(size_ratio, table)
assert verdict, verdict
### BEGIN HIDDEN TESTS
_sizes = table["size (MB)"]
assert np.isclose(size_ratio, _sizes["LiteRT float32"] / _sizes["LiteRT int8"], rtol=0.01)
### END HIDDEN TESTS
verdict
""",
    ),
    md("""
**Exercise 06.2 (open-ended).** Calibrate full-integer quantization badly on purpose:
convert the SavedModel again with 20 representative images of one class only (say
sandals), then with 20 blank (all-zero) images. Compare their test accuracy and agreement
with the table's int8 row, and explain what you see.
"""),
    solution(
        "exercise_06_2",
        """
### BEGIN SOLUTION
sandal = data.CLASS_NAMES.index("Sandal")
calibrations = {
    "20 sandals": train_images[train_labels == sandal][:20],
    "20 blank images": np.zeros((20, 28, 28), dtype=np.uint8),
}
for name, images in calibrations.items():
    path = deploy.convert_to_litert(
        saved_model_dir,
        export_dir / f"model_int8_{name.replace(' ', '_')}.tflite",
        quantization="int8",
        representative_images=images,
    )
    probabilities = deploy.litert_predictor(path)(test_images)
    agreement, _ = deploy.agreement(reference, probabilities)
    accuracy = np.mean(probabilities.argmax(axis=1) == test_labels)
    print(f"calibrated on {name}: accuracy {accuracy:.4f}, agreement {agreement:.2%}")
print(f"calibrated on 500 training images: accuracy {table.loc['LiteRT int8', 'test accuracy']:.4f}")
# One class is enough here: after batch normalization the activations of every class span
# much the same ranges. Blank images light up nothing: every range is measured as (almost)
# zero, every real activation is clipped to it, and the model answers at chance level.
### END SOLUTION
""",
        points=2,
    ),
    code(
        """
# NBVAL_CHECK_OUTPUT
checks.exercise_06_2()
""",
        tags=["check"],
    ),
    md("""
**Exercise 06.3 (open-ended).** Fool the demo: find or take a photo of a real garment that
the page gets wrong. What do the 28x28 image and the Grad-CAM map show? Is the mistake the
picture's (background, angle, several garments) or the model's (a look-alike class)?
"""),
    solution(
        "exercise_06_3",
        """
### BEGIN SOLUTION
# With a photo of your own next to this notebook, for example "my_shirt.jpg":
# scores, picture = demo.classify_upload(model, "my_shirt.jpg")
# Typical mistakes: a worn garment with a person in it, a busy background that the trimming
# keeps, a garment photographed at an angle, or a shirt read as a T-shirt or a coat.
scores, picture = demo.classify_upload(model, uploads / "test_image_0.png")
print({name: round(value, 3) for name, value in scores.items() if value > 0.01})
### END SOLUTION
""",
        points=2,
    ),
    code(
        """
# NBVAL_CHECK_OUTPUT
checks.exercise_06_3()
""",
        tags=["check"],
    ),
    md("""
## Next steps

- Serve the SavedModel with TensorFlow Serving (`docker run -p 8501:8501 --mount
  type=bind,source=$PWD/exported/formats/saved_model,target=/models/fmnist/1 -e
  MODEL_NAME=fmnist tensorflow/serving`) and send it images as JSON.
- Run the ONNX file in a web page with ONNX Runtime Web, or convert the SavedModel with
  TensorFlow.js: the model then runs on the visitor's machine.
- Quantization-aware training (the TensorFlow Model Optimization toolkit) trains with the
  rounding in the loop, for models that lose more accuracy in 8 bits than this one.
- Share the demo: `demo.launch(app, share=True)` makes a public link for 72 hours
  (it needs internet), or deploy it on Hugging Face Spaces.
"""),
]


def main() -> None:
    notebook = new_notebook(cells=CELLS)
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "version": "3.11.7"},
    }
    path = Path(__file__).resolve().parent.parent / "notebooks" / NAME
    nbformat.write(notebook, path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
