"""The Textual viewer (``blocks-tui view``).  Textual only: never imports torch."""
