import pytest
import torch

from phenolab.config import RunConfig

# A config that groks inside the test suite in about a second on a 2-core CPU:
# train fits by step ~60, test crosses 0.99 around step 420.
TINY = dict(p=47, frac=0.6, steps=800, eval_every=20)


@pytest.fixture(autouse=True)
def _deterministic_threads():
    torch.set_num_threads(2)


@pytest.fixture
def tiny_config() -> RunConfig:
    return RunConfig().replace(**TINY)


def run(cfg, store, device="cpu", callbacks=(), options=None):
    """One config through the one door (phenolab.run.train_configs), in this process."""
    from phenolab.run import DEFAULT_OPTIONS, train_configs

    options = options or DEFAULT_OPTIONS
    return train_configs([cfg], store, device, workers=1, options=options, callbacks=callbacks)[0]


def run_ensemble(configs, store, device="cpu", callbacks=(), options=None):
    """Member configs trained as ONE ensemble in this process (the layer below the door)."""
    from phenolab.run import DEFAULT_OPTIONS, resolve_device
    from phenolab.run.ensemble import train_ensemble

    options = options or DEFAULT_OPTIONS
    return train_ensemble(configs, store, resolve_device(device), callbacks, options)
