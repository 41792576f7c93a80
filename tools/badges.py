"""Colab and Binder badges and install URLs, all written from one address.

The repository's address is written once, in ``pyproject.toml``::

    [project.urls]
    Repository = "https://github.com/OWNER/NAME"

An instructor who forks the course changes that line and runs ``make badges`` (that is,
``python tools/badges.py``). It rewrites, from the address and the branch:

- each numbered notebook's badge line (in ``notebooks/``, the exercise versions, and
  ``solutions/``), just under its title: "Open in Colab" for that
  notebook and "launch binder" opening that notebook in JupyterLab;
- the README's badges (Binder opening ``notebooks/00_getting_started.ipynb``) and any
  other Colab, Binder or ``git+https`` install link to the course in the README;
- the ``%pip install "fmnist_utils @ git+https://github.com/OWNER/NAME"`` line of
  every Setup cell (which runs on Colab only).

:func:`find_problems` lists every badge or URL that disagrees with the address or with
its notebook's path; the test suite fails on any.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DEFAULT_BRANCH",
    "LANDING_NOTEBOOK",
    "Repository",
    "badge_line",
    "badge_line_in",
    "find_problems",
    "install_url",
    "read_repository",
    "update_badges",
]

DEFAULT_BRANCH = "main"
#: Where the README's Binder badge opens JupyterLab.
LANDING_NOTEBOOK = "notebooks/00_getting_started.ipynb"
#: The exercise versions (what students open) and the solution versions, each with badges for its own path.
_NOTEBOOK_GLOBS = ("notebooks/[0-9][0-9]_*.ipynb", "solutions/[0-9][0-9]_*.ipynb")
_GITHUB = re.compile(r"https://github\.com/(?P<owner>[A-Za-z0-9_.-]+)/(?P<name>[A-Za-z0-9_.-]+?)(?:\.git)?/?")
_COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
_BINDER_BADGE = "https://mybinder.org/badge_logo.svg"
# Any course link, whatever repository or branch it names now (what make badges rewrites).
_COLAB_LINK = re.compile(
    r"https://colab\.research\.google\.com/github/[^/\s)]+/[^/\s)]+/blob/[^/\s)]+/(?P<path>[^\s)]+)"
)
_BINDER_LINK = re.compile(r"https://mybinder\.org/v2/gh/[^/\s)]+/[^/\s)?]+/[^/\s)?]+(?P<query>\?[^\s)]*)?")
_INSTALL_LINK = re.compile(
    r"fmnist_utils(?P<extras>\[[a-z,]+\])? @ git\+https://github\.com/[^\s\"'@]+(?:@[^\s\"']+)?"
)
_BADGE_LINE = re.compile(r"^\[!\[Open In Colab\].*$", re.MULTILINE)


@dataclass(frozen=True)
class Repository:
    """A GitHub repository and the branch the badges point at."""

    owner: str
    name: str
    branch: str = DEFAULT_BRANCH

    @property
    def url(self) -> str:
        return f"https://github.com/{self.owner}/{self.name}"

    def colab_url(self, path: str) -> str:
        """Colab's link that opens ``path`` (relative to the repository root) on the branch."""
        return f"https://colab.research.google.com/github/{self.owner}/{self.name}/blob/{self.branch}/{path}"

    def binder_url(self, path: str) -> str:
        """mybinder.org's link that starts JupyterLab with ``path`` open."""
        return f"https://mybinder.org/v2/gh/{self.owner}/{self.name}/{self.branch}?urlpath=lab/tree/{path}"


def read_repository(root: str | os.PathLike[str] = ".", branch: str = DEFAULT_BRANCH) -> Repository:
    """Read the repository's address from ``[project.urls] Repository`` in ``pyproject.toml``.

    Raises:
        ValueError: The entry is missing or is not a ``https://github.com/OWNER/NAME``
            address (Colab and Binder open GitHub repositories).
        RuntimeError: Python is older than 3.11 (``tomllib``).
    """
    try:
        import tomllib
    except ImportError as error:  # Python 3.10.
        raise RuntimeError(
            "make badges needs Python 3.11 or newer (it reads pyproject.toml with tomllib)."
        ) from error
    pyproject = Path(root) / "pyproject.toml"
    with pyproject.open("rb") as file:
        urls = tomllib.load(file).get("project", {}).get("urls", {})
    address = urls.get("Repository")
    if not address:
        raise ValueError(
            f"{pyproject} has no [project.urls] Repository entry: add one, e.g. "
            'Repository = "https://github.com/OWNER/NAME".'
        )
    match = _GITHUB.fullmatch(address.strip())
    if not match:
        raise ValueError(
            f"{pyproject}: Repository = {address!r} is not a GitHub address of the form "
            "https://github.com/OWNER/NAME (Colab and Binder open GitHub repositories)."
        )
    if not re.fullmatch(r"[A-Za-z0-9_./-]+", branch) or ".." in branch:
        raise ValueError(f"branch {branch!r} is not a plain branch name.")
    return Repository(match["owner"], match["name"], branch)


def install_url(repository: Repository, extras: str = "") -> str:
    """The requirement the Setup cells install on Colab: ``fmnist_utils @ git+https://...``.

    ``extras`` (``"[deploy]"`` in notebook 06) is kept as the notebook wrote it.
    """
    return f"fmnist_utils{extras} @ git+{repository.url}"


def badge_line(repository: Repository, path: str) -> str:
    """The Markdown line of badges that open ``path`` on Colab and on Binder."""
    return (
        f"[![Open In Colab]({_COLAB_BADGE})]({repository.colab_url(path)}) "
        f"[![Binder]({_BINDER_BADGE})]({repository.binder_url(path)})"
    )


def _rewrite_links(text: str, repository: Repository) -> str:
    """Point every Colab, Binder and install link in ``text`` at ``repository``."""
    text = _COLAB_LINK.sub(lambda match: repository.colab_url(match["path"]), text)
    text = _BINDER_LINK.sub(
        lambda match: (
            f"https://mybinder.org/v2/gh/{repository.owner}/{repository.name}/{repository.branch}"
            + (match["query"] or "")
        ),
        text,
    )
    return _INSTALL_LINK.sub(lambda match: install_url(repository, match["extras"] or ""), text)


def _course_notebooks(root: Path) -> list[Path]:
    return [notebook for pattern in _NOTEBOOK_GLOBS for notebook in sorted(root.glob(pattern))]


def badge_line_in(markdown: str, repository: Repository, path: str) -> str:
    """A notebook's first cell with the badge line for ``path`` (replaced, or added under the title)."""
    return _with_badge_line(markdown, badge_line(repository, path))


def _with_badge_line(markdown: str, line: str) -> str:
    """Replace the badge line of a notebook's first cell, or add it under the H1 title."""
    if _BADGE_LINE.search(markdown):
        return _BADGE_LINE.sub(lambda _: line, markdown, count=1)
    title, _, rest = markdown.partition("\n")
    return f"{title}\n\n{line}\n" + (f"\n{rest.lstrip(chr(10))}" if rest.strip() else "")


def _updated_notebook(path: Path, relative: str, repository: Repository) -> str:
    content = json.loads(path.read_text(encoding="utf-8"))
    cells = content["cells"]
    if not cells or cells[0]["cell_type"] != "markdown" or not "".join(cells[0]["source"]).startswith("# "):
        raise ValueError(f"{relative}: the first cell must be a Markdown cell with the H1 title.")
    for index, cell in enumerate(cells):
        source = "".join(cell["source"])
        if index == 0:
            source = _with_badge_line(source, badge_line(repository, relative))
        source = _rewrite_links(source, repository)
        cell["source"] = source.splitlines(keepends=True)
    # The layout nbformat writes (and nbconvert saved), so that only the changed lines differ.
    return json.dumps(content, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _updated_readme(path: Path, repository: Repository) -> str:
    """The README with its badge line (the landing notebook) and every course link rewritten."""
    lines = _rewrite_links(path.read_text(encoding="utf-8"), repository).split("\n")
    landing = (
        f"[![Binder]({_BINDER_BADGE})]({repository.binder_url(LANDING_NOTEBOOK)}) "
        f"[![Open In Colab]({_COLAB_BADGE})]({repository.colab_url(LANDING_NOTEBOOK)})"
    )
    for index, line in enumerate(lines):
        if line.startswith("[![Binder]("):
            lines[index] = landing
            continue
        # A table row of the notebooks: its Colab badge opens the notebook the row links to.
        row = re.match(r"^\| \[[^\]]+\]\((?P<path>notebooks/[^)\s]+\.ipynb)\)", line)
        if row:
            lines[index] = _COLAB_LINK.sub(lambda _, row=row: repository.colab_url(row["path"]), line)
    if landing not in lines:
        lines[1:1] = ["", landing]  # Under the H1 title.
    return "\n".join(lines)


def _planned_changes(root: Path, repository: Repository) -> dict[Path, str]:
    """Every file whose text ``make badges`` would change, with its new text."""
    new_texts = {
        notebook: _updated_notebook(notebook, notebook.relative_to(root).as_posix(), repository)
        for notebook in _course_notebooks(root)
    }
    readme = root / "README.md"
    if readme.is_file():
        new_texts[readme] = _updated_readme(readme, repository)
    return {path: text for path, text in new_texts.items() if text != path.read_text(encoding="utf-8")}


def update_badges(root: str | os.PathLike[str] = ".", branch: str = DEFAULT_BRANCH) -> list[Path]:
    """Rewrite every badge and install URL from ``pyproject.toml``'s address.

    Every new text is computed before anything is written, and each file is replaced
    atomically, so an error leaves every file as it was.

    Returns:
        The files that changed (none when everything already agrees).
    """
    root = Path(root)
    changes = _planned_changes(root, read_repository(root, branch))
    for path, text in changes.items():
        temporary = path.with_name(f".{path.name}.badges-tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    return list(changes)


def find_problems(root: str | os.PathLike[str] = ".", branch: str = DEFAULT_BRANCH) -> list[str]:
    """List every badge or install URL that disagrees with the address or with its notebook.

    Returns:
        One line per problem; empty when all agree.
    """
    root = Path(root)
    repository = read_repository(root, branch)
    problems = []
    for notebook in _course_notebooks(root):
        relative = notebook.relative_to(root).as_posix()
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        first = "".join(cells[0]["source"]) if cells else ""
        if badge_line(repository, relative) not in first.splitlines():
            problems.append(
                f"{relative}: its first cell lacks the badge line for {relative} on {repository.url}"
            )
        setup_cells = [
            "".join(cell["source"]) for cell in cells if "fmnist_utils.setup(" in "".join(cell["source"])
        ]
        installs = re.compile(rf'"fmnist_utils(?:\[[a-z,]+\])? @ git\+{re.escape(repository.url)}"')
        if not any(installs.search(source) for source in setup_cells):
            problems.append(
                f'{relative}: its Setup cell does not install "{install_url(repository)}" on Colab'
            )
    readme = root / "README.md"
    if readme.is_file():
        problems.extend(
            f"README.md: a Colab link opens {match['path']}, which is not in the repository"
            for match in _COLAB_LINK.finditer(readme.read_text(encoding="utf-8"))
            if not (root / match["path"]).is_file()
        )
    problems.extend(
        f"{path.relative_to(root).as_posix()}: a badge or install URL disagrees with {repository.url} "
        "(run make badges)"
        for path in _planned_changes(root, repository)
    )
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python tools/badges.py [--check] [--branch BRANCH]`` in the repository root."""
    parser = argparse.ArgumentParser(
        prog="python tools/badges.py",
        description=(
            "Read the repository's address from [project.urls] Repository in pyproject.toml and "
            "rewrite from it every notebook's Colab and Binder badges, the README's badges and "
            "links, and the Setup cells' install URL. Run it in the repository root."
        ),
    )
    parser.add_argument("--branch", default="main", help="branch the badges open (default: main)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything disagrees")
    arguments = parser.parse_args(argv)
    try:
        repository = read_repository(".", arguments.branch)
        if arguments.check:
            problems = find_problems(".", arguments.branch)
            print(*problems, sep="\n", end="\n" if problems else "")
            print(f"{len(problems)} badge problems ({repository.url}, branch {repository.branch})")
            return 1 if problems else 0
        changed = update_badges(".", arguments.branch)
    except (OSError, ValueError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for path in changed:
        print(f"rewrote {path}")
    where = f"{repository.url} (branch {repository.branch})"
    print(f"{len(changed)} files changed; badges and install URLs point at {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
