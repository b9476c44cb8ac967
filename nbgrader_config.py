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

# `python -m autograder collect NAME FILE.zip` (autograder/intake/) reads the LMS file names
# with this pattern, the one place to adapt for another LMS. Canvas names each file
# LASTFIRST[_LATE]_USERID_SUBMISSIONID_FILENAME. Groups: student_id and file_id (required, as
# for nbgrader zip_collect), last_name (Canvas gives only "lastfirst", recorded as the last
# name), late (non-empty when the LMS marked the file late), lms_user_id (default: student_id).
# The pattern is matched against a path ending in "/<file name>", as zip_collect does.
c.FileNameCollectorPlugin.named_regexp = (
    r".*/(?P<last_name>[^/_]+)_(?P<late>LATE_)?(?P<student_id>[0-9A-Za-z]+)_[0-9]+_"
    r"(?P<file_id>[^/]+)$"
)
c.FileNameCollectorPlugin.valid_ext = [".ipynb", ".py"]

# Late work: a submission is late when its time (timestamp.txt, the LMS's time) is after the
# assignment's due date in the gradebook (`nbgrader db assignment add NAME --duedate=...`).
# "none" records no penalty; "zero" takes the whole score of a late submission.
c.LateSubmissionPlugin.penalty_method = "none"

try:
    from autograder.nbgrader_hooks import configure
except ImportError:  # a student copy without the grader: plain nbgrader behaviour
    pass
else:
    configure(c)
