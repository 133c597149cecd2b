"""Feature definitions: SQL per domain plus catalog.yaml (read as package data)."""
