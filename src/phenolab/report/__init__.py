"""Figures and self-contained HTML reports, read only from the store."""
