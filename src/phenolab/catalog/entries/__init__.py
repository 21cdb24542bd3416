"""Catalog entries, one module per phenomenon family; importing this package registers them."""

from phenolab.catalog.entries import jeffares2025, nanda2023, power2022, schaeffer2023  # noqa: F401
