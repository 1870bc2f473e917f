"""toolcatalog package."""
