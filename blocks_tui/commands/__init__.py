"""The subcommands of ``blocks-tui``, one module each.

Every module has ``add_parser(subparsers, common)``, which declares the
subcommand's options and returns its parser, and ``run(args)``, which
checks the options, calls the layer that does the work and hands the
result to :mod:`blocks_tui.render`.  :mod:`blocks_tui.cli` connects each
parser to its ``run`` and turns errors into exit codes; the ``bench``
subcommands are grouped under :mod:`.bench` the same way.

Modules import their heavy dependencies (torch, h5py, Textual) inside
``run``: the parser is built on every start, and ``info`` must not wait for
torch.  Nothing is imported here.
"""
