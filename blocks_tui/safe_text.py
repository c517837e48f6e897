"""Showing untrusted text: class names, sample sources, notes and attributes read from data.

Every string that comes from a cache, an image folder, a hierarchy file or a
triage file was written by someone else.  Sent raw to a terminal, an ESC in
it can set the window title, write the clipboard (OSC 52) or move the
cursor; passed to Rich or Textual as markup, ``[link=…]`` becomes a link,
``[@click=app.quit]`` an action, and a stray ``[/]`` a crash.  So such text
goes through :func:`printable` (a plain ``str`` with every control character
made visible) or :func:`plain` (a Rich ``Text`` that is never parsed as
markup), and nowhere else.
"""

from __future__ import annotations

import unicodedata

from rich.text import Text

MAX_SHOWN = 4096  # characters of one untrusted string ever shown; a 10 MB attribute costs nothing to print

# Bidirectional controls reorder what is shown (the "Trojan Source" trick); they are format characters (Cf),
# not control characters (Cc), so they are listed by name.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _escape(ch: str) -> str:
    code = ord(ch)
    if code == 0x1B:
        return "\\e"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def _needs_escape(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cc", "Cs") or ch in _BIDI or ch in "\u2028\u2029"


def printable(value: object, limit: int | None = MAX_SHOWN) -> str:
    """``value`` as a one-line string that is safe to write to a terminal.

    C0 and C1 control characters (ESC, BEL, CR, LF, TAB, NUL, CSI …), DEL,
    bidirectional overrides and line separators become visible escapes
    (``\\e``, ``\\x07``, ``\\u202e``); everything else, including non-Latin
    scripts and emoji, stays as it is.  Strings longer than ``limit``
    characters are cut with an ellipsis and the count of what was cut.
    The result carries no markup meaning by itself: give it to Rich as
    ``Text``, not as a markup string (see :func:`plain`).
    """
    s = value if isinstance(value, str) else str(value)
    cut = 0
    if limit is not None and len(s) > limit:
        cut, s = len(s) - limit, s[:limit]
    if any(_needs_escape(ch) for ch in s):
        s = "".join(_escape(ch) if _needs_escape(ch) else ch for ch in s)
    return f"{s}…(+{cut:,} characters)" if cut else s


def plain(value: object, style: str = "", limit: int | None = MAX_SHOWN) -> Text:
    """A Rich ``Text`` showing ``value`` literally: control characters escaped, markup never parsed."""
    return Text(printable(value, limit), style=style, end="")
