"""Hint sentences of known bugs, one module per assignment, shared by the notebook's visible
checks (``Bug(value, HINT)`` in ``layerlab.verdicts``) and the hidden suite, so a student reads
the same words in both. Sentences only: nothing here computes a graded function."""
