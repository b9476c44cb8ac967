"""Proving the hidden suites with mutants.

Two sources of mutants, one verdict:

* the hand catalog (``tests/catalog/<assignment>.py``): realistic bugs that must lose points and
  correct variants that must keep full marks (:mod:`autograder.mutation.catalog`);
* machine-made mutants: one edit of the solution notebook's solution regions each
  (:mod:`autograder.mutation.generate`), graded in process under several seeds
  (:mod:`autograder.mutation.run`), survivors filtered for equivalence on edge-of-domain inputs
  (:mod:`autograder.mutation.equivalence`).

A mutant is killed only when it loses points under every seed.
"""

from autograder.mutation.catalog import (
    ROOT,
    Entry,
    EntryOutcome,
    apply_entry,
    evaluate_catalog,
    grade_in_process,
    load_catalog,
    namespace_from_cells,
    solution_cells,
)
from autograder.mutation.report import mutation_report

__all__ = [
    "ROOT",
    "Entry",
    "EntryOutcome",
    "apply_entry",
    "evaluate_catalog",
    "grade_in_process",
    "load_catalog",
    "mutation_report",
    "namespace_from_cells",
    "solution_cells",
]
