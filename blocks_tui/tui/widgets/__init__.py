"""Widgets of the viewer; each declares the Message classes it posts."""
