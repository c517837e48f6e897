"""Torch: the models blocks-tui trains and runs, shared by ``extract`` and ``demo``.

* :mod:`.demo_cnn` — the demo's small CNN and its input preprocessing;
* :mod:`.training` — one training loop (plain or hierarchy-aware) for the
  demo and ``blocks-tui train``;
* :mod:`.inference` and :mod:`.responses` — batched top-k predictions with
  forward hooks that pool layer responses on the fly;
* :mod:`.variants` — the input transforms (grayscale, rotations, flip).

Both torch packages import this one and never each other: ``extract`` runs
any classifier over a data set, ``demo`` builds the demo cache.  Nothing is
imported here, so one submodule does not pull in the others.
"""
