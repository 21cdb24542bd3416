"""Catalog entries, one module per phenomenon family; importing this package registers them."""

from phenolab.catalog.entries import (  # noqa: F401
    barak2022,
    chughtai2023,
    huang2024,
    jeffares2025,
    lee2024,
    liu2023,
    liu2023_images,
    nakkiran2021,
    nanda2023,
    power2022,
    prieto2025,
    schaeffer2023,
    tian2025,
    varma2023,
)
