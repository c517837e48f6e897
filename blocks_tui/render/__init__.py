"""Everything the command line draws in a plain terminal, with rich: one module per report.

These work without a TTY: rich drops colour and keeps the tables when output
goes to a pipe or a file, so the same commands serve scripts and people.
Everything that comes from a cache or the command line (paths, names,
sources, attributes) is handed to rich as :func:`~blocks_tui.safe_text.plain`
text: a ``str`` cell or title would be parsed as markup, and control
characters would reach the terminal.  Commands compute, these modules draw;
the viewer (``tui/``) draws with Textual and never comes here.

Nothing is imported here: a command pulls in only its own report.
"""
