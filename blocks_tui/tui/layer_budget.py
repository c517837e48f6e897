"""How much memory the response map's layers may hold: the one number the command line and the viewer share.

A module of its own so that building the command-line parser, which happens
on every start, does not import numpy with the response code.
"""

LAYER_BUDGET = 512 << 20
"""Bytes of loaded layers by default (``view --memory`` in MB); older layers are loaded again when asked for."""
MIN_MEGABYTES = 16
"""The smallest ``--memory``: below it not even one class row per sample of a small layer fits."""
