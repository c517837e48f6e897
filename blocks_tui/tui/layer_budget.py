"""How much memory the response map's layers may hold: the one number the command line and the viewer share.

A module of its own so that building the command-line parser, which happens
on every start, does not import numpy with the response code.
"""

import sys

LAYER_BUDGET = 512 << 20
"""Bytes of loaded layers by default (``view --memory`` in MB); older layers are loaded again when asked for."""
MIN_MEGABYTES = 16
"""The smallest ``--memory``: below it not even one class row per sample of a small layer fits."""

MMAP_THRESHOLD = 1 << 20
"""Allocations of this many bytes or more get pages of their own (see :func:`give_back_dropped_layers`)."""


def give_back_dropped_layers() -> bool:
    """Ask glibc to map every allocation of :data:`MMAP_THRESHOLD` bytes or more on its own pages, so that
    the arrays of a layer dropped from the budget go back to the system when freed.  Whether it was set.

    By default glibc raises that threshold to the size of the largest block it
    has freed (up to 32 MB), so after the first big layer is dropped, the next
    layers' arrays come from the heap, and a small array kept above them (a
    rank table) pins their pages: measured in a pty on the 1,000-class
    benchmark cache, four layers left the viewer at 650-700 MB resident; with
    a fixed threshold, 574 MB.  Elsewhere than glibc (macOS, musl) nothing
    is done.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if sys.platform != "linux" or not name:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    M_MMAP_THRESHOLD = -3  # from glibc's malloc.h
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
