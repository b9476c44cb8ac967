"""The commands beyond ``judge``: release, grade, demo, mutation-report."""

from __future__ import annotations


def register(sub) -> None:
    """Add the sub-commands to the CLI's argparse sub-parsers."""
