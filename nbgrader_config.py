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

# `python -m autograder collect NAME FILE.zip` (nbgrader zip_collect): the LMS names each file
# LASTFIRST[_LATE]_STUDENTID_SUBMISSIONID_FILENAME (Canvas). Change the pattern for another LMS.
c.FileNameCollectorPlugin.named_regexp = (
    r".*/[^/_]+_(?:LATE_)?(?P<student_id>[0-9A-Za-z]+)_[0-9]+_(?P<file_id>[^/]+)$"
)
c.FileNameCollectorPlugin.valid_ext = [".ipynb", ".py"]

try:
    from autograder.nbgrader_hooks import configure
except ImportError:  # a student copy without the grader: plain nbgrader behaviour
    pass
else:
    configure(c)
