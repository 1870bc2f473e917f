"""Migration revisions, oldest first by ``down_revision``; see :mod:`profiles.migrations`."""
