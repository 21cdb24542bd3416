"""One registry style: `phenolab.Registry`, and what it buys. A toy task and a toy model defined
in this file alone (no phenolab module edited) are validated, trained end to end through the one
door to training (phenolab.run.train_configs), stored and sized by the shard planner: a new task
or model is one file plus its registration."""

import pytest
import torch

from phenolab import Registry
from phenolab.config import RunConfig
from phenolab.errors import ConfigError
from phenolab.models import MODELS, ModelKind
from phenolab.models.init import bmm, stacked_normal, zeros
from phenolab.run.shards import bytes_per_member, parameter_count
from phenolab.store import Store
from phenolab.tasks import TASKS, Dims, Task, TaskData, data_seed, describe, n_elements
from tests.conftest import run

TOY_FORMAT = "toy-vectors"  # an input format of their own: only the toy model reads it
D = 8  # the toy task's input dimension


class SignOfSum(Task):
    """Is the sum of D standard normal inputs positive? (a linearly separable toy)"""

    fields = ("n_train", "n_test")
    inputs = (TOY_FORMAT,)

    def check(self, cfg) -> None:
        if cfg.n_train < 1:
            raise ConfigError(f"n_train: sign-of-sum needs training samples, got {cfg.n_train}")

    def n_classes(self, op: str, p: int) -> int:
        return 2

    def title(self, op: str, p: int) -> str:
        return "sign of a sum"

    def dims(self, cfg, reads: str) -> Dims:
        return Dims(D, 2, D)

    def rows(self, cfg, batch_size: int) -> int:
        return max(batch_size or cfg.n_train, cfg.n_test)

    def build(self, cfgs: list, reads: str, seeds: list[int]) -> TaskData:
        def draw(count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
            x = torch.randn(count, D, generator=torch.Generator().manual_seed(seed))
            return x, (x.sum(dim=1) > 0).long()

        seeds = [data_seed(c, s) for c, s in zip(cfgs, seeds, strict=True)]
        train = [draw(cfgs[0].n_train, 2 * s) for s in seeds]
        test = [draw(cfgs[0].n_test, 2 * s + 1) for s in seeds]
        return TaskData(
            x_train=torch.stack([x for x, _ in train]),
            y_train=torch.stack([y for _, y in train]),
            x_test=torch.stack([x for x, _ in test]),
            y_test=torch.stack([y for _, y in test]),
            n_classes=2,
            vocab=D,
        )


class Linear(torch.nn.Module):
    exterior = ("W",)

    def __init__(self, d_in: int, n_classes: int, seeds: list[int], scales: list[float]) -> None:
        super().__init__()
        gens = [torch.Generator().manual_seed(s) for s in seeds]
        self.W = stacked_normal(gens, (d_in, n_classes), d_in**-0.5, scales)  # [E, d, classes]
        self.b = zeros(len(seeds), n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return bmm(x, self.W) + self.b[:, None, :]


class LinearKind(ModelKind):
    summary = "a linear classifier over the toy vectors"
    reads = TOY_FORMAT

    def make(self, cfg, inputs, seeds, scales):
        return Linear(inputs.seq_len, inputs.n_classes, seeds, scales)

    def activation_floats(self, cfg, inputs, rows):
        return rows * (inputs.seq_len + 3 * inputs.n_classes)


@pytest.fixture
def toy():
    TASKS.register("sign-of-sum", SignOfSum("sign-of-sum"))
    MODELS.register("toy-linear", LinearKind("toy-linear"))
    yield RunConfig().replace(
        op="sign-of-sum", n_train=64, n_test=256, model="toy-linear", lr=0.1, wd=0.0, steps=60
    )
    TASKS.unregister("sign-of-sum")
    MODELS.unregister("toy-linear")


def test_a_task_and_a_model_registered_in_one_file_train_end_to_end(toy, tmp_path):
    store = Store(tmp_path / "runs.db")
    result = run(toy, store, device="cpu")
    assert result.record.status == "finished"
    steps, test_acc = store.metrics(toy.run_id())["test/acc"]
    assert steps[-1] == 60 and test_acc[-1] > 0.9  # a linear rule, learnt
    assert result.events.t_fit is not None  # events with chance 1 / n_elements = 1/2
    assert n_elements("sign-of-sum", 97) == 2 and describe("sign-of-sum", 97) == "sign of a sum"
    # the shard planner sizes it from the kind's own module: W [8, 2] and b [2]
    assert parameter_count(toy) == D * 2 + 2 and bytes_per_member(toy) > 0


def test_the_registries_check_what_a_toy_reads(toy):
    with pytest.raises(ConfigError, match="n_train: sign-of-sum needs training samples"):
        toy.replace(n_train=0)
    with pytest.raises(ConfigError, match=r"frac: only used by op=x\+y"):
        toy.replace(frac=0.5)  # a field the toy task does not read
    with pytest.raises(ConfigError, match="model: toy-linear reads toy-vectors"):
        toy.replace(op="x+y", n_train=0, n_test=2048)
    with pytest.raises(ConfigError, match="model: mlp reads pairs"):
        toy.replace(model="mlp")


def test_unknown_names_are_config_errors_listing_the_valid_ones():
    colours = Registry("colour")
    colours.register("red", "#f00")

    @colours.register("green")
    def green():
        """The colour of grass."""

    assert colours.get("red") == "#f00" and colours["green"] is green
    assert list(colours) == ["red", "green"] and "red" in colours and len(colours) == 2
    assert colours.describe() == [("red", ""), ("green", "The colour of grass.")]
    with pytest.raises(ConfigError, match=r"^colour: unknown 'blue' \(valid: red, green\)$"):
        colours.get("blue")
    with pytest.raises(ValueError, match="registered twice"):
        colours.register("red", "#e00")
    colours.unregister("red")
    assert colours.names() == ["green"]


@pytest.mark.parametrize(
    "values, message",
    [
        ({"op": "x%y"}, "op: unknown operation 'x%y' (valid: x+y, "),
        ({"model": "resnet"}, "model: unknown 'resnet' (valid: mlp, transformer, "),
        ({"optimizer": "lion"}, "optimizer: unknown 'lion' (valid: adamw, sgd, adam, muon, lstsq)"),
        ({"loss": "l1"}, "loss: unknown 'l1' (valid: cross_entropy, mse, hinge, stablemax)"),
        ({"measures": "bogus"}, "measures: unknown measure 'bogus' (valid: circuit, "),
        ({"interventions": "bogus"}, "interventions: unknown intervention 'bogus' (valid: "),
    ],
)
def test_every_registry_names_its_valid_names(values, message):
    with pytest.raises(ConfigError) as err:
        RunConfig().replace(**values)
    assert str(err.value).startswith(message)


def test_every_registered_thing_describes_itself():
    from phenolab.catalog import ENTRIES, all_entries
    from phenolab.interventions import INTERVENTIONS
    from phenolab.measures import MEASURES
    from phenolab.train.losses import LOSSES
    from phenolab.train.optim import OPTIMIZERS

    all_entries()  # loads the catalog
    for registry in (TASKS, MODELS, OPTIMIZERS, LOSSES, MEASURES, INTERVENTIONS, ENTRIES):
        for name, summary in registry.describe():
            assert summary and "\n" not in summary, name
