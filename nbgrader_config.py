"""nbgrader configuration: this directory is the course root.

solutions/ is nbgrader's source directory, assignments/ its release directory.
Grading runs through the sandboxed judge (see ARCHITECTURE.md); ``autograder.nbgrader_hooks``
swaps nbgrader's in-kernel verdicts for the judge's.
"""

from pathlib import Path

c = get_config()  # noqa: F821  (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.root = str(Path(__file__).resolve().parent)
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"

try:
    from autograder.nbgrader_hooks import configure
except ImportError:  # a student copy without the grader: plain nbgrader behaviour
    pass
else:
    configure(c)
