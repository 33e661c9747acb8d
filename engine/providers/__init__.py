"""Cloud providers behind ``engine.backend.CloudBackend``."""
