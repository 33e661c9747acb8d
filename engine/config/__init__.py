"""The demo file: typed, frozen settings, validated with errors that name file, line and field."""
