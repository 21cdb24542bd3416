import json

import pytest

from phenolab.config import RunConfig, from_flat, from_json
from phenolab.config.presets import PRESETS, preset
from phenolab.errors import ConfigError


def test_run_ids_are_pinned():
    # A changed id silently orphans every stored run: change these only with RUN_FORMAT.
    assert RunConfig().run_id() == "e86bc66447c0"
    assert RunConfig().replace(seed=1).run_id() == RunConfig().replace(seed=1).run_id()
    assert preset("nanda").run_id() == "5035396050eb"


def test_canonical_config_omits_defaults():
    assert RunConfig().canonical() == {}
    cfg = RunConfig().replace(p=113, lr=1e-3, betas="0.9,0.99")
    assert cfg.canonical() == {"betas": [0.9, 0.99], "lr": 0.001, "p": 113}


def test_same_config_same_id_different_config_different_id():
    a = RunConfig().replace(wd="0.5")
    b = RunConfig().replace(wd=0.5)
    assert a == b and a.run_id() == b.run_id()
    assert a.run_id() != RunConfig().run_id()


def test_strings_are_coerced_to_field_types():
    cfg = from_flat(
        {
            "p": "113",
            "frac": "0.5",
            "layernorm": "true",
            "steps": "1e4",
            "split_seed": "none",
            "model": "transformer",
        }
    )
    assert cfg.task.p == 113 and cfg.task.frac == 0.5 and cfg.model.layernorm is True
    assert cfg.train.steps == 10_000 and cfg.task.split_seed is None


@pytest.mark.parametrize(
    "values, message",
    [
        ({"nonsense": 1}, "unknown config field 'nonsense'"),
        ({"p": "abc"}, "p: expected int"),
        ({"steps": 2.5}, "steps: expected int"),
        ({"betas": "0.9"}, "betas: expected 2 comma-separated values"),
        ({"model": "resnet"}, "model: unknown 'resnet'"),
        ({"optimizer": "lion"}, "optimizer: unknown 'lion'"),
        ({"lr": -1}, "lr: must be positive"),
        ({"n_heads": 3}, "n_heads: 3 does not divide d_model 128"),
        ({"layernorm": "maybe"}, "layernorm: expected bool"),
        ({"measures": "fourier,bogus"}, "measures: unknown measure 'bogus'"),
    ],
)
def test_bad_values_name_the_field(values, message):
    with pytest.raises(ConfigError, match=message):
        from_flat(values)


def test_json_round_trip_nested_and_flat():
    cfg = preset("nanda")
    assert from_json(json.loads(json.dumps(cfg.to_json()))) == cfg
    assert from_json(cfg.canonical()) == cfg


def test_presets_are_valid_and_documented():
    nanda = preset("nanda")
    assert (nanda.task.p, nanda.task.frac, nanda.model.model, nanda.model.n_layers) == (
        113,
        0.3,
        "transformer",
        1,
    )
    assert (nanda.train.lr, nanda.train.wd, nanda.train.betas, nanda.train.batch_size) == (
        1e-3,
        1.0,
        (0.9, 0.98),
        0,
    )
    for name, (description, cfg) in PRESETS.items():
        assert description and cfg.run_id(), name
    with pytest.raises(ConfigError, match="unknown preset 'x'"):
        preset("x")
