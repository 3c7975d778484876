"""scinet-repro: Section 6 of Poulsen Nautrup et al. (arXiv:2001.00593) as a library behind a DVC pipeline.

The library takes plain typed arguments; it never reads params.yaml and never knows DVC (stage scripts do).
"""

__version__ = "0.1.0"
