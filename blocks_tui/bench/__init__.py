"""Benchmarks, each against a baseline measured in the same run (``blocks-tui bench ...``).

One module per benchmark, kept out of the product packages so that
``cache``, ``analysis``, ``extract`` and ``tui`` hold only what the tool runs:

* :mod:`.cache_open` — opening a large cache lazily vs. reading it all with h5py;
* :mod:`.analysis` — the analysis at 1000+ classes against goals and scipy;
* :mod:`.extract` — extraction throughput vs. a plain inference loop (torch);
* :mod:`.demo` — the whole demo, timed, and its planted properties (torch);
* :mod:`.probe` — the scipy and torch probe engines on the same layers;
* :mod:`.ui` and :mod:`.ui_pictures` — viewer frames, keys, start-up and pictures.

Nothing is imported here: a benchmark pulls in only its own layer.
"""
