"""The ``blocks-tui`` command line: dispatch to the subcommands, and the exit codes.

Exit codes: 0 success, 1 a failure (bad cache, failed run), 2 a usage error,
130 interrupted.  Every error is one line on stderr, never a traceback (set
``BLOCKS_TUI_DEBUG=1`` to see one).  Each subcommand is a module of
:mod:`blocks_tui.commands` with ``add_parser`` and ``run``; torch is imported
only by the ``run`` of the commands that run a model, so ``info`` and
``summary`` start fast on machines where torch is slow to import or absent.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, NoReturn, Sequence

from . import __version__
from .commands import (
    bench,
    demo,
    dynamics,
    extract,
    info,
    make_synthetic,
    merge,
    probe,
    report,
    summary,
    train,
    view,
)
from .commands.options import common_options
from .errors import BlocksError
from .safe_text import printable  # every name, path and message from data or argv goes through it

# What each subcommand runs.  main() dispatches through these names, read when the parser is built,
# so that a test can swap one for a function that fails in a chosen way.
cmd_demo = demo.run
cmd_info = info.run
cmd_summary = summary.run
cmd_extract = extract.run
cmd_merge = merge.run
cmd_make_synthetic = make_synthetic.run
cmd_view = view.run
cmd_report = report.run
cmd_dynamics = dynamics.run
cmd_train = train.run
cmd_probe = probe.run


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {printable(message)} (see {self.prog} --help)\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    """Every subcommand, in the order ``--help`` lists them, each connected to what it runs."""
    parser = _Parser(
        prog="blocks-tui",
        description="See how an image classifier confuses its classes (Blocks, VIS 2017) in the terminal.",
    )
    parser.add_argument("--version", action="version", version=f"blocks-tui {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    common = common_options()
    demo.add_parser(sub, common).set_defaults(func=cmd_demo)
    info.add_parser(sub, common).set_defaults(func=cmd_info)
    summary.add_parser(sub, common).set_defaults(func=cmd_summary)
    extract.add_parser(sub, common).set_defaults(func=cmd_extract)
    merge.add_parser(sub, common).set_defaults(func=cmd_merge)
    bench.add_parser(sub, common)  # each benchmark connected to its own run
    make_synthetic.add_parser(sub, common).set_defaults(func=cmd_make_synthetic)
    view.add_parser(sub, common).set_defaults(func=cmd_view)
    report.add_parser(sub, common).set_defaults(func=cmd_report)
    dynamics.add_parser(sub, common).set_defaults(func=cmd_dynamics)
    train.add_parser(sub, common).set_defaults(func=cmd_train)
    probe.add_parser(sub, common).set_defaults(func=cmd_probe)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``blocks-tui`` console script."""
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except BlocksError as exc:
        sys.stderr.write(f"blocks-tui: error: {printable(exc)}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("blocks-tui: interrupted\n")
        return 130
    except OSError as exc:  # disk full, read-only folder, permissions: the user's to fix, not a bug
        where = f"{exc.filename}: " if exc.filename else ""
        sys.stderr.write(f"blocks-tui: error: {printable(where)}{printable(exc.strerror or exc)}\n")
        return 1
    except Exception as exc:  # noqa: BLE001 - the CLI's promise is one line, not a traceback
        if os.environ.get("BLOCKS_TUI_DEBUG"):
            raise
        sys.stderr.write(
            f"blocks-tui: internal error: {type(exc).__name__}: {printable(exc)} (set BLOCKS_TUI_DEBUG=1 for the "
            "traceback)\n"
        )
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
