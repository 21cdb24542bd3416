"""Catalog entries, one module per phenomenon family; importing this package registers them."""

from phenolab.catalog.entries import (  # noqa: F401
    ainsworth2023,
    barak2022,
    chughtai2023,
    frankle2020,
    huang2024,
    jeffares2025,
    lee2024,
    liu2023,
    liu2023_images,
    nanda2023,
    power2022,
    prieto2025,
    schaeffer2023,
    tian2025,
    varma2023,
)
