"""cardreader package."""
