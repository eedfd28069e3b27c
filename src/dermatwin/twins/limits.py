"""Sampler limits of a twin fit, in a module that imports nothing.

The command line declares its option bounds with them (``--walkers``, ``--burn``,
``--steps``) without importing the sampler (emcee, arviz, the model): ``dermatwin --help``
stays fast. :class:`dermatwin.twins.fit.FitSettings` checks the same bounds.
"""

#: sampler limits: walkers 4..MAX_WALKERS, burn 0..MAX_STEPS, steps 10..MAX_STEPS
#: (a few times what a converged fit needs; larger values only cost memory and hours)
MAX_WALKERS = 1024
MAX_STEPS = 100_000

#: default sampler settings (the ``de-t`` schedule of :mod:`dermatwin.twins.sampler`):
#: the shipped examples converge with them (tests/twins/test_twin_convergence.py)
WALKERS = 24
BURN = 80
STEPS = 120
MOVES = ("de-t", "de", "stretch")
