"""Run a torch classifier over images and record what Blocks needs.

Torch lives only in this package (and the demo's model and pipeline): the
viewer side of blocks-tui reads the HDF5 cache with numpy and never imports
torch.  This ``__init__`` imports nothing, so importing one submodule (the
data set discovery, say) does not pull in the others.
"""
