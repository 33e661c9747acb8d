"""Real OpenStack clouds through openstacksdk: the interop steps, teardown, sweep, preflight.

The package itself imports nothing: callers import the module they need
(``engine.providers.openstack.cloud`` …), so pure modules such as ``rules`` serve the
rehearsal without loading openstacksdk.
"""
