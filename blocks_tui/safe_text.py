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

import re

from rich.text import Span, Text

MAX_SHOWN = 4096  # characters of one untrusted string ever shown; a 10 MB attribute costs nothing to print

# Control characters (Unicode category Cc: C0, DEL, C1), lone surrogates (Cs), the line and paragraph
# separators, and the bidirectional controls that reorder what is shown (the "Trojan Source" trick; they are
# format characters, Cf, so they are listed by name).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029"
                     "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x1B:
        return "\\e"
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


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
    s = _UNSAFE.sub(_escape, s)
    return f"{s}…(+{cut:,} characters)" if cut else s


def plain(value: object, style: str = "", limit: int | None = MAX_SHOWN) -> Text:
    """A Rich ``Text`` showing ``value`` literally: control characters escaped, markup never parsed."""
    return Text(printable(value, limit), style=style, end="")


def escaped(text: Text) -> Text:
    """``text`` with its control characters made visible as :func:`printable` does, its styles kept.

    For widgets that are handed a styled ``Text`` assembled elsewhere (a
    status line, a panel title): they escape what they show, whoever built
    it.  A ``Text`` with nothing to escape is returned as it is.
    """
    if not _UNSAFE.search(text.plain):
        return text
    out = text.blank_copy()
    cuts = sorted({0, len(text.plain), *(x for span in text.spans for x in (span.start, span.end))})
    for piece in text.divide(cuts[1:-1]):  # each piece lies wholly inside or outside every span
        shown = printable(piece.plain, None)
        out.append_text(Text(shown, spans=[Span(0, len(shown), span.style) for span in piece.spans]))
    return out


def json_escaped(document: str) -> str:
    """A JSON text with every character :func:`printable` would escape written as ``\\uXXXX``.

    JSON escapes C0 inside strings, but not DEL, C1 (``\\x9b`` is a CSI) or
    bidi controls, so a document dumped with ``ensure_ascii=False`` (to keep
    names readable) is not safe to print.  Outside strings JSON has only
    ASCII and its whitespace (tab, newline, carriage return), which stay.
    The parsed value is unchanged.
    """
    return _UNSAFE.sub(lambda m: m.group() if m.group() in "\t\n\r" else f"\\u{ord(m.group()):04x}", document)
