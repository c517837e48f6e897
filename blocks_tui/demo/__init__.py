"""The built-in demo: a synthetic hierarchical data set and a small CNN.

``generator`` (numpy and PIL only) draws the images and knows what was
planted in them; ``model`` and ``pipeline`` (torch) train the CNN and write
the demo cache.  Nothing is imported here, so ``blocks_tui.demo.generator``
loads without torch.
"""
