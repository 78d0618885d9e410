"""feeder: republish a directory of scraped articles as a clean, valid Atom feed."""

__version__ = "0.2.0"
