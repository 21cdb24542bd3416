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
