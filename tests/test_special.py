"""layerlab.special.erf against SciPy's, entry by entry."""

import numpy as np
from scipy.special import erf as scipy_erf

from layerlab.special import erf


def test_erf_matches_scipy_to_a_few_ulps_with_its_edges():
    x = np.concatenate([np.linspace(-7.0, 7.0, 20001), [0.0, -0.0, 1e-300, -1e-300, 40.0]])
    ours, theirs = erf(x), scipy_erf(x)
    assert ours.dtype == np.float64 and ours.shape == x.shape
    assert np.all(np.abs(ours - theirs) <= 4 * np.spacing(np.abs(theirs)))
    edges = erf(np.array([np.inf, -np.inf, np.nan]))
    assert edges[0] == 1.0 and edges[1] == -1.0 and np.isnan(edges[2])


def test_erf_keeps_shapes_and_gives_a_float_for_a_number():
    assert erf(np.zeros((2, 0, 3))).shape == (2, 0, 3)
    assert erf(np.ones((2, 3))).shape == (2, 3)
    value = erf(0.5)
    assert isinstance(value, float) and abs(value - scipy_erf(0.5)) <= 4 * np.spacing(0.5)
