"""Solutions of earlier assignments, handed out as given code once they are graded.

``layerlab/given/<assignment>.py`` holds graded functions of ``<assignment>``. The student
bundle of an assignment ships only the modules of the assignments before it, so a student
never downloads the answer to what is still to be written: ``given.a1_activations``
(``rel_error`` and the centred-difference gradients) comes with a2 and later.
"""
