"""The test suite on each stack the course claims, one nox session per stack.

    nox -s tests     the newest releases (a plain install of requirements-dev.txt)
    nox -s lowest    every declared floor, exactly (.ci/lowest.txt): Colab's TensorFlow and Keras
    nox -s colab     Colab's TensorFlow, Keras and NumPy together (.ci/colab.txt; not run by CI:
                     its TensorFlow and Keras are the floors, its NumPy the newest stack's)

Each session installs requirements-dev.txt and the package into its own virtual environment
(.nox/SESSION) under its constraints, then runs the Makefile's ``test`` target in that
environment (``make test VENV=.nox/SESSION``), so every stack runs exactly what ``make test``
runs. FMNIST_QUICK and FMNIST_DATA_DIR pass through, as with make:

    FMNIST_QUICK=1 FMNIST_DATA_DIR=/path/to/fashion-mnist nox -s lowest

Arguments after ``--`` run pytest on them instead of the whole suite
(``nox -s lowest -- tests/test_training.py``); ``--install-only`` installs and stops, and
``-R`` reuses an installed environment without installing again.
"""

from __future__ import annotations

from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"  # What `make` uses: no virtualenv needed.
nox.options.sessions = ["tests"]

ROOT = Path(__file__).parent
#: Session name -> constraints file (None: the newest releases pip finds).
STACKS = {"tests": None, "lowest": ".ci/lowest.txt", "colab": ".ci/colab.txt"}


def _suite(session: nox.Session, constraints: str | None) -> None:
    venv = Path(session.virtualenv.location)
    session.install("-r", "requirements-dev.txt", "-e", ".", *(["-c", constraints] if constraints else []))
    # Make's install stamps: `make test` in this environment then installs nothing more.
    for stamp in (".installed", ".installed-deploy", ".installed-dev"):
        (venv / stamp).touch()
    session.run(
        "python",
        "-c",
        "import keras, numpy, tensorflow as tf; "
        "print('TensorFlow', tf.__version__, 'Keras', keras.__version__, 'NumPy', numpy.__version__)",
    )
    if session.posargs:
        session.run("python", "-m", "pytest", *session.posargs, env={"FMNIST_STACK": session.name})
    else:
        # FMNIST_STACK: tests that build their own environment (the JupyterHub classroom) run once.
        session.run("make", "test", f"VENV={venv}", external=True, env={"FMNIST_STACK": session.name})


@nox.session
def tests(session: nox.Session) -> None:
    """The suite on the newest releases."""
    _suite(session, STACKS["tests"])


@nox.session
def lowest(session: nox.Session) -> None:
    """The suite on the lowest versions requirements.txt and pyproject.toml declare."""
    _suite(session, STACKS["lowest"])


@nox.session
def colab(session: nox.Session) -> None:
    """The suite on Colab's TensorFlow, Keras and NumPy."""
    _suite(session, STACKS["colab"])
