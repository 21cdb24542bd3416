"""Grids of configs → ensemble shards → executors (local processes; Ray later)."""
