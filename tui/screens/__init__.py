"""The room's screens: the zoomed cloud and the help screen."""
