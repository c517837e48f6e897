"""The viewer's features, one module each; each is handed the app as a :class:`~blocks_tui.tui.viewer.Viewer`."""
