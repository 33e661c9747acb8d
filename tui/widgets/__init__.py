"""The room's widgets, one per module; each reads a ``RoomView`` and nothing else."""
