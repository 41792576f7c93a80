"""tools/package_size.py: the package's size, measured exactly, and the goals it must keep."""

from __future__ import annotations

import textwrap

from tools import package_size

SMALL_MODULE = textwrap.dedent(
    '''\
    """A module."""

    __all__ = ["short", "Documented"]


    def short(x):
        return x + 1


    class Documented:
        """A class."""

        def method(self, values):
            """Sums the values.

            Args:
                values: Numbers.
            """
            total = 0
            for value in values:
                total += value
            if total < 0:
                raise ValueError("negative")
            return total
    '''
)


def test_measure_counts_lines_bodies_raises_and_exports(tmp_path):
    (tmp_path / "small.py").write_text(SMALL_MODULE)
    (tmp_path / "_private.py").write_text("def f():\n    pass\n")
    figures = package_size.measure(tmp_path)
    assert figures["modules"]["small"] == {"lines": 24, "raise": 1, "all": ["short", "Documented"]}
    assert figures["modules"]["_private"] == {"lines": 2, "raise": 0, "all": []}
    # (length from def to last line, body without the docstring, name), longest first.
    assert figures["functions"] == [
        (12, 6, "small.method"),
        (2, 1, "small.short"),
        (2, 1, "_private.f"),
    ]


def test_the_package_meets_its_size_goals(capsys):
    assert package_size.main() == 0, capsys.readouterr().out
