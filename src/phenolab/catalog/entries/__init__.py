"""Catalog entries: one Python module per phenomenon family (what TOML cannot say: figures,
analyses of stored weights, bespoke read-outs), and the experiment files shipped in
`phenolab/catalog/experiments/` (experiment.py); importing this package registers them all."""

from phenolab.catalog.entries import (  # noqa: F401
    ainsworth2023,
    barak2022,
    belkin2019,
    chughtai2023,
    curth2023,
    frankle2019,
    frankle2020,
    frankle2020_lmc,
    furuta2024,
    huang2024,
    jeffares2025,
    liu2023,
    liu2023_images,
    liu2023_norm,
    minegishi2024,
    nakkiran2021,
    nakkiran2021_epoch_wise,
    nakkiran2021_model_wise,
    nakkiran2021_sample_wise,
    nanda2023,
    power2022,
    prieto2025,
    tian2025,
    varma2023,
    xu2025,
)


def _register_shipped() -> None:
    from phenolab.catalog import register
    from phenolab.catalog.experiment import load, shipped

    for path in shipped():
        register(load(path))


_register_shipped()
