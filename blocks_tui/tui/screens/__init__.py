"""Screens of the viewer: main, help, filter, dialogs, too-small."""
