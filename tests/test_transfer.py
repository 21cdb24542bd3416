"""Embedding transfer (GrokTransfer and plain transfer) and the factored embedding W_E = A·B:
constructed cases on tiny runs — the transferred embedding is exactly the source's at step 0,
the rest is the run's own initialisation, the linear map trains, mismatches are ConfigErrors."""

import pytest
import torch

from phenolab.config import MEMBER_FIELDS, RunConfig
from phenolab.errors import ConfigError
from phenolab.models import build_model
from phenolab.models.embedding import embedding_of
from phenolab.store import Store
from tests.conftest import run, run_ensemble
from tests.test_ensemble import assert_same_curves

# tiny runs (the tests share 2 CPU cores): a weak source with a 4-wide embedding, a wider one
# with the target's width, and a target on x+y mod 23
TARGET = RunConfig().replace(p=23, frac=0.6, width=32, d_embed=16, steps=40, eval_every=20)
WEAK = TARGET.replace(d_embed=4, width=8, keep_checkpoint_at=(0,))
WIDE = TARGET.replace(op="x-y", seed=7)  # the same width, another task on the same numbers
GROK = TARGET.replace(embed_rank=4, embed_from=WEAK.run_id(), keep_checkpoint_at=(0, 40))


@pytest.fixture(scope="module")
def source_store(tmp_path_factory):
    """The path of a store holding the finished sources (closed: its WAL is in the file)."""
    path = tmp_path_factory.mktemp("transfer") / "runs.db"
    with Store(path) as store:
        run(WEAK, store, device="cpu")
        run(WIDE, store, device="cpu")
    return path


@pytest.fixture
def store(source_store, tmp_path):
    path = tmp_path / "runs.db"
    path.write_bytes(source_store.read_bytes())
    return Store(path)


def final_embedding(store, cfg):
    return embedding_of(store.load_checkpoint(cfg.run_id())[2]["model"])


def test_new_fields_are_no_ops_by_default_and_embed_from_is_a_member_field():
    assert RunConfig().run_id() == "e86bc66447c0"  # ids of old runs unchanged
    assert "embed_from" in MEMBER_FIELDS
    assert "embed_rank" not in MEMBER_FIELDS  # it fixes parameter shapes


def test_a_factored_embedding_is_the_product_of_two_trained_factors():
    cfg = TARGET.replace(embed_rank=3).model
    model = build_model(cfg, vocab=23, n_classes=23, seq_len=2, seeds=[0, 1])
    names = dict(model.named_parameters())
    assert "W_E" not in names and names["W_E_A"].shape == (2, 23, 3)
    assert names["W_E_B"].shape == (2, 3, 16)
    table = model.embedding()
    torch.testing.assert_close(table[1], names["W_E_A"][1] @ names["W_E_B"][1])
    torch.testing.assert_close(embedding_of(model.state_dict()), table.detach())
    # the forward pass reads the product: gradients reach both factors
    x = torch.randint(0, 23, (2, 5, 2))
    model(x).sum().backward()
    assert names["W_E_A"].grad.abs().sum() > 0 and names["W_E_B"].grad.abs().sum() > 0
    # a row of A·B has the table's expected squared norm (≈ 1 at init scale 1)
    big = build_model(TARGET.replace(embed_rank=8, d_embed=512).model, 400, 23, 2, [0])
    assert abs(big.embedding().detach().pow(2).sum(-1).mean().item() - 1) < 0.1


@pytest.mark.parametrize("rank", [0, 4])
def test_the_transferred_embedding_is_exactly_the_sources_at_step_0(store, rank):
    source = WEAK if rank else WIDE
    cfg = GROK if rank else TARGET.replace(embed_from=WIDE.run_id(), keep_checkpoint_at=(0,))
    plain = cfg.replace(embed_from=None)  # the same run without the transfer
    run_ensemble([cfg, plain], store, device="cpu")
    start, own = (store.kept_weights(c.run_id(), 0) for c in (cfg, plain))
    target = "W_E_A" if rank else "W_E"
    assert torch.equal(start[target], final_embedding(store, source))
    assert not torch.equal(own[target], start[target])
    for name, weights in start.items():  # everything else: this run's own initialisation
        if name != target:
            assert torch.equal(weights, own[name]), name


def test_grok_transfer_trains_the_map_and_the_transferred_factor(store):
    run(GROK, store, device="cpu")
    start, end = (store.kept_weights(GROK.run_id(), k) for k in (0, 40))
    for name in ("W_E_A", "W_E_B"):
        assert not torch.allclose(start[name], end[name]), name  # nothing is frozen


def test_a_frozen_transferred_embedding_stays_the_sources_while_the_rest_trains(store):
    """Furuta et al.'s frozen pre-grokked embedding: the transferred table is written back
    after every step (AdamW's update and weight decay of it undone), the rest of the model
    trains."""
    cfg = TARGET.replace(
        embed_from=WIDE.run_id(), interventions="freeze-embedding", keep_checkpoint_at=(0, 40)
    )
    run(cfg, store, device="cpu")
    start, end = (store.kept_weights(cfg.run_id(), k) for k in (0, 40))
    assert torch.equal(end["W_E"], final_embedding(store, WIDE))
    for name in ("W_in", "W_out"):
        assert not torch.allclose(start[name], end[name]), name
    loss = store.metrics(cfg.run_id())["train/loss"][1]
    assert loss[-1] < 0.9 * loss[0], loss


def test_freezing_needs_a_token_embedding(tmp_path):
    cfg = RunConfig().replace(
        op="parity",
        n_bits=8,
        k_bits=2,
        n_train=64,
        model="dense",
        steps=5,
        interventions="freeze-embedding",
    )
    with pytest.raises(ConfigError, match="freeze-embedding needs a model with a token embedding"):
        run(cfg, Store(tmp_path / "runs.db"), device="cpu")


def test_a_member_with_a_transfer_trains_in_an_ensemble_as_alone(source_store, store, tmp_path):
    members = [GROK, GROK.replace(seed=1, embed_from=None), GROK.replace(seed=2)]
    together = run_ensemble(members, store, device="cpu")
    for cfg, r in zip(members, together, strict=True):
        path = tmp_path / f"alone{cfg.train.seed}.db"
        path.write_bytes(source_store.read_bytes())
        solo = run(cfg, Store(path), device="cpu")
        assert_same_curves(store.metrics(r.record.id), Store(path).metrics(solo.record.id))


@pytest.mark.parametrize(
    "cfg, match",
    [
        (TARGET.replace(embed_from=WEAK.run_id()), "4 wide, this model's W_E 16; .*rank=4"),
        (TARGET.replace(embed_from=WEAK.run_id(), embed_rank=8), "embed_rank=4"),
        (TARGET.replace(embed_from=WEAK.run_id(), embed_rank=4, p=29), "23 element tokens"),
        (TARGET.replace(embed_from="0123456789ab"), "not in the store"),
        (TARGET.replace(embed_from=WEAK.run_id(), model="twolayer"), "no token embedding"),
    ],
)
def test_mismatched_transfers_are_config_errors_naming_the_field(store, cfg, match):
    with pytest.raises(ConfigError, match=match) as info:
        run(cfg, store, device="cpu")
    assert str(info.value).startswith("embed_from")
    assert store.get_run(cfg.run_id()) is None  # refused before anything was stored


@pytest.mark.parametrize(
    "fields, match",
    [
        (dict(embed_from="xyz"), "embed_from: expected a full 12-character run id"),
        (dict(embed_from=WEAK.run_id(), init_from=WIDE.run_id()), "embed_from: .*init_from"),
        (dict(embed_from=WEAK.run_id(), ticket_from=WIDE.run_id()), "embed_from: .*ticket_from"),
        (dict(embed_rank=-1), "embed_rank: must be non-negative"),
        (dict(embed_rank=2, model="twolayer"), "embed_rank: model=twolayer"),
    ],
)
def test_bad_transfer_fields_are_refused_at_the_boundary(fields, match):
    with pytest.raises(ConfigError, match=match):
        TARGET.replace(**fields)
