"""Catalog entries, one module per phenomenon family; importing this package registers them."""

from phenolab.catalog.entries import (  # noqa: F401
    chughtai2023,
    huang2024,
    jeffares2025,
    nanda2023,
    power2022,
    schaeffer2023,
    varma2023,
)
