"""layerlab: the small package students import alongside the assignments.

``layerlab.gradcheck`` checks gradients, ``layerlab.data`` loads data sets,
``layerlab.train`` trains models, ``layerlab.plots`` draws the usual figures.
"""

__version__ = "0.1.0"
