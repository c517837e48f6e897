"""Synthetic data from numpy (and PIL) alone: no torch, no GPU, no download.

* :mod:`.generator` — the demo's hierarchical image data set, with the
  ground truth of what it planted;
* :mod:`.demo_data` — the demo's training and evaluation splits and its
  class tree, which ``demo``, ``extract --data demo`` and ``train`` share;
* :mod:`.scale` — realistic-scale caches (1000+ classes, 50k samples) for
  ``make-synthetic`` and the benchmarks.

Nothing is imported here, so ``import blocks_tui.synthetic.generator`` loads
without torch.
"""
