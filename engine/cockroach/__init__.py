"""The real CockroachDB cluster: monitor, direct probes, kv workload and demo settings.

``CockroachCluster`` (in ``cluster.py``) is the ``ClusterBackend`` the engine runs when the
demo file names SQL addresses; every module here is usable (and tested) on its own.
"""
