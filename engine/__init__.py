"""crossroom's engine: every side effect of a show, with no screen attached.

The screen (``tui``) folds the engine's events and calls its command API; nothing
here imports Textual or the screen, so the same engine runs headless and in tests.
"""
