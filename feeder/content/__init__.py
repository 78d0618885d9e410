"""The content stage: an entry's Markdown → clean, safe HTML (render, clean, sanitize)."""
