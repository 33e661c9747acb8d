"""The rehearsal fleet: simulated clouds and a simulated CockroachDB cluster."""
