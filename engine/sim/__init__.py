"""The rehearsal fleet: simulated clouds and a simulated CockroachDB cluster."""

DEFAULT_SPEED = 5.0
"""Demo seconds per real second of a rehearsal unless ``--speed`` says otherwise (here, not
in the fleet, so a command line can show it without building the fleet)."""
