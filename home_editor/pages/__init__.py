"""Pages: composition only."""
