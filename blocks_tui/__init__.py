"""blocks-tui: see how an image classifier confuses its classes, in the terminal.

The package is layered so data flows one way: ``extract`` (torch) writes the
HDF5 ``cache``, ``analysis`` (numpy/scipy) computes on its arrays, and ``tui``
(Textual) draws what analysis computed.  Importing this package imports
nothing heavy, so the viewer path never pays for torch.
"""

__version__ = "0.1.0"
