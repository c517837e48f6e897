"""``python -m blocks_tui`` is the same as ``blocks-tui``."""

from .cli import main

raise SystemExit(main())
