"""What every task is: the `Task` interface, the registry of tasks by op name (`TASKS`), and
`resolve`, which turns a user's spelling of an op into its task and canonical name.

A task is one family's dataset as tensors (tasks/arithmetic.py, groups.py, parity.py, images.py,
regression.py). It says what it reads from the task config (`fields`), what its inputs are
(`inputs`: token ids for the pair tasks, real feature vectors, images), how many classes it has,
how to title itself, the input dimensions a model is built for (`dims`), and builds the data of
an ensemble (`build`). Config validation and the run layer ask these; nothing outside a task's
own module names its ops. A new task is one module that registers an instance:
`TASKS.register("my-op", MyTask("my-op"))`, imported by tasks/__init__.py (or by the user's own
code before the config is made).
"""

from __future__ import annotations

from phenolab import Registry
from phenolab.models.base import Dims, adopt_kind
from phenolab.tasks.data import TaskData

# name (the config's op) → Task. Pattern tasks (groups: S<n>, D<n>) are registered under their
# pattern and claim the ops they read (Task.claim).
TASKS = Registry("op", "operation ", plugins="phenolab.tasks", adopt=adopt_kind)

# The input formats a model reads (models: `reads`) and a task provides (Task.inputs):
# token pairs [x, y] or token sequences `x op y =` (the pair tasks provide both), real feature
# vectors [d], or images (flattened feature vectors with an image shape: features too).
PAIRS, SEQUENCE, FEATURES, IMAGES = "pairs", "sequence", "features", "images"
TOKENS = (PAIRS, SEQUENCE)
COMMON_FIELDS = ("op", "split_seed")  # read by every task


class Task:
    """One task (the op of a config). Subclasses set `summary`, `fields` and `inputs` and
    implement `n_classes`, `dims` and `build`; `check` validates their own fields."""

    summary = ""  # one line, for listings and help
    fields: tuple[str, ...] = ()  # TaskConfig fields read besides COMMON_FIELDS
    inputs = TOKENS  # the input formats it provides: TOKENS, (FEATURES,) or (FEATURES, IMAGES)

    def __init__(self, name: str) -> None:
        self.name = name

    @property
    def reads_features(self) -> bool:
        """Inputs are real feature vectors (read by dense, rf and, for images, cnn models)."""
        return FEATURES in self.inputs

    def claim(self, op: str) -> str | None:
        """The canonical spelling of `op` if this task reads it (None: not this task's op)."""
        return op if op == self.name else None

    def check(self, cfg) -> None:
        """Raise a ConfigError naming the first of its fields that `cfg` (a TaskConfig) sets
        wrong. Fields it does not read are checked by TaskConfig."""

    def online(self, cfg) -> bool:
        """Fresh examples every step (a training batch size is then needed)."""
        return False

    def n_classes(self, op: str, p: int) -> int:
        """Classes of `op` (0: real-valued targets); pair tasks: symbols (operands, answers)."""
        raise NotImplementedError

    def title(self, op: str, p: int) -> str:
        """'x+y mod 97', 'S5', 'sparse parity': for titles and listings."""
        return op

    def dims(self, cfg, reads: str) -> Dims:
        """The input dimensions of a model reading `reads` (may load a dataset)."""
        raise NotImplementedError

    def rows(self, cfg, batch_size: int) -> int:
        """Most examples one step or evaluation sees (the memory estimate of a member)."""
        raise NotImplementedError

    def build(self, cfgs: list, reads: str, seeds: list[int]) -> TaskData:
        """The data of E members (cfgs share the op), inputs in the format `reads`."""
        raise NotImplementedError


def resolve(op: str) -> tuple[Task, str]:
    """(the task, the canonical op) of a user's op, or a ConfigError listing the valid ops."""
    if op in TASKS:
        return TASKS[op], op
    for task in TASKS.values():
        canonical = task.claim(op)
        if canonical is not None:
            return task, canonical
    raise TASKS.unknown(op)


def task_of(op: str) -> Task:
    return resolve(op)[0]


def readers(name: str) -> list[str]:
    """The ops whose task reads the field `name`."""
    return [op for op, task in TASKS.items() if name in task.fields]
