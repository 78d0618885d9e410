"""The feeds stage: entries → published documents (Atom, RSS, JSON Feed, pages)."""
