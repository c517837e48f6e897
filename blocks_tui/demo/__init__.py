"""The built-in demo: train the small CNN on the synthetic data set and write the demo cache.

``pipeline`` (torch) generates the images (:mod:`blocks_tui.synthetic`),
trains the CNN (:mod:`blocks_tui.nn`), evaluates it and writes the cache;
``checks`` measures what the data set planted, for the tests and ``bench
demo``.  This package never imports ``extract``, nor ``extract`` it.
Nothing is imported here.
"""
