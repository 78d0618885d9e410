"""The seeds stage: a seed file → its entry's metadata (walk, read, parse, fields)."""
