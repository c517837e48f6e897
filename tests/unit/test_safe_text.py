"""The one way untrusted text reaches a terminal: control characters made visible, markup never parsed."""

from __future__ import annotations

import io

from rich.console import Console

from blocks_tui.safe_text import MAX_SHOWN, plain, printable

HOSTILE = "cat\x1b]52;c;ZXZpbA==\x07\x1b[2J[/][link=file:///etc/passwd]x[@click=app.quit]y\u202e\x9b\x7f\r\n\t"


def test_printable_leaves_no_control_character() -> None:
    shown = printable(HOSTILE)
    assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in shown)
    assert "\u202e" not in shown
    assert shown.startswith("cat\\e]52;c;ZXZpbA==\\x07\\e[2J[/][link=")
    assert "\\u202e\\x9b\\x7f\\x0d\\x0a\\x09" in shown


def test_printable_keeps_ordinary_unicode() -> None:
    assert printable("Grüße 東京 🐍 naïve") == "Grüße 東京 🐍 naïve"


def test_printable_cuts_long_strings_and_says_so() -> None:
    shown = printable("x" * (MAX_SHOWN + 10))
    assert shown.endswith("…(+10 characters)")
    assert len(shown) < MAX_SHOWN + 30


def test_plain_is_never_parsed_as_markup() -> None:
    out = io.StringIO()
    Console(file=out, force_terminal=True, color_system="truecolor", width=200).print(plain(HOSTILE))
    written = out.getvalue()
    assert "[/][link=file:///etc/passwd]x[@click=app.quit]y" in written  # shown literally
    assert "\x1b]8;" not in written  # no hyperlink was made
    assert "\x1b]52" not in written and "\x07" not in written  # the OSC 52 never reached the terminal
