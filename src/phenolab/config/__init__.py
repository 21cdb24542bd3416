"""Typed, frozen run configs; canonical JSON; run ids.

A run config is four sections: the task (owned by `tasks`), the model (`models`), the training
(`train`) and where the run starts (`config/start.py`, read by `run/start.py`). Every leaf field
has a name unique across sections, so that the CLI can offer `--FIELD VALUE` for each and a flat
dict can name any field; sections only group them (a run's id does not depend on the grouping:
stores written when the start fields sat in `train` are read the same).

The run id is a hash of the canonical config: only fields that differ from their defaults, plus
`phenolab.RUN_FORMAT`. New fields therefore default to a no-op and old ids stay valid.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from phenolab import RUN_FORMAT
from phenolab.config.start import StartConfig
from phenolab.errors import ConfigError
from phenolab.models import MODELS, ModelConfig
from phenolab.tasks import FEATURES, IMAGES, TASKS, TOKENS, TaskConfig, dims, task_of
from phenolab.train import closedform
from phenolab.train.config import TrainConfig


@dataclass(frozen=True)
class RunConfig:
    """One training run (one ensemble member): task, model and training."""

    task: TaskConfig = field(default_factory=TaskConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    start: StartConfig = field(default_factory=StartConfig)

    def __post_init__(self) -> None:
        from phenolab.interventions.spec import canonical_of, parse_specs
        from phenolab.measures import MEASURES, REQUIREMENTS

        # the interventions parsed once, here: carried parsed (`interventions()`) to the run
        # layer, and kept in canonical form (defaults left out) so equal runs share one id
        parsed = parse_specs(self.train.interventions)
        object.__setattr__(self.train, "interventions", tuple(canonical_of(p) for p in parsed))
        object.__setattr__(self, "_interventions", parsed)
        keep = self.start.keep_checkpoint_at
        if keep and keep[-1] > self.train.steps:
            raise ConfigError(
                f"keep_checkpoint_at: steps must be in [0, {self.train.steps}], got {keep}"
            )
        _check_inputs(self)

        for name in self.train.measures:
            MEASURES.get(name)  # a ConfigError naming the valid ones
            problem = REQUIREMENTS[name](self) if name in REQUIREMENTS else None
            if problem:
                raise ConfigError(f"measures: {problem}")

    def interventions(self) -> tuple:
        """The interventions parsed: ((id, {parameter: value, defaults filled in}), ...)."""
        return self._interventions

    # -- flat view -------------------------------------------------------------------------
    def flat(self) -> dict[str, Any]:
        """All leaf fields as one dict {name: value}."""
        out: dict[str, Any] = {}
        for section in SECTIONS:
            out.update(dataclasses.asdict(getattr(self, section)))
        return out

    def replace(self, **overrides: Any) -> RunConfig:
        """A copy with leaf fields replaced by name, values coerced and validated."""
        return from_flat({**self.flat(), **overrides})

    # -- identity ---------------------------------------------------------------------------
    def canonical(self) -> dict[str, Any]:
        """Fields that differ from their defaults, sorted: the saved identity of the run."""
        default = _defaults()
        return {k: _jsonable(v) for k, v in sorted(self.flat().items()) if v != default[k]}

    def run_id(self) -> str:
        """The hash of the canonical config and the run format; computed once per config."""
        if "_run_id" not in self.__dict__:
            payload = json.dumps({"config": self.canonical(), "format": RUN_FORMAT}, sort_keys=True)
            object.__setattr__(self, "_run_id", hashlib.sha256(payload.encode()).hexdigest()[:12])
        return self.__dict__["_run_id"]

    def to_json(self) -> dict[str, Any]:
        """The full config, every field, nested by section."""
        return {
            s: {k: _jsonable(v) for k, v in dataclasses.asdict(getattr(self, s)).items()}
            for s in SECTIONS
        }


# training fields every report shows, at their defaults too
CORE_TRAIN = ("optimizer", "lr", "wd", "steps", "batch_size", "loss", "seed", "eval_every")


def used_fields(cfg: RunConfig) -> list[str]:
    """The fields a report shows of a run: those its task and model read, the core training
    fields, and every field set away from its default (the rest are at their defaults and
    unused by this run)."""
    from phenolab.tasks.base import COMMON_FIELDS

    task, kind = task_of(cfg.task.op), MODELS.get(cfg.model.model)
    used = {*COMMON_FIELDS, *task.fields, "model", "init_scale", *kind.fields, *CORE_TRAIN}
    changed = cfg.canonical()
    return [name for name in cfg.flat() if name in used or name in changed]


def _check_inputs(cfg: RunConfig) -> None:
    """The model reads what the task provides (token pairs or sequences, feature vectors,
    images) and fits its dimensions; an online task has a batch size; the closed-form solver
    its own settings (closedform.check)."""
    task, model = task_of(cfg.task.op), MODELS.get(cfg.model.model)
    op, name = cfg.task.op, cfg.model.model
    if model.reads not in task.inputs:
        if task.reads_features and model.reads in TOKENS:
            users = " or ".join(_models_reading(FEATURES))
            raise ConfigError(f"model: op={op} reads feature vectors: use model={users}")
        if model.reads in (FEATURES, IMAGES) and not task.reads_features:
            ops = ", ".join(_ops_providing(FEATURES))
            raise ConfigError(f"model: {name} reads feature vectors (op: {ops}), not {op}")
        ops = ", ".join(_ops_providing(model.reads))
        raise ConfigError(f"model: {name} reads {model.reads} (op: {ops}), not {op}")
    if task.online(cfg.task) and cfg.train.batch_size == 0:
        raise ConfigError("batch_size: online training (n_train = 0) needs a batch size ≥ 1")
    model.check_dims(cfg.model, lambda: dims(cfg.task, model.reads))
    closedform.check(cfg)


def _models_reading(reads: str) -> list[str]:
    return [n for n, kind in MODELS.items() if kind.reads == reads]


def _ops_providing(inputs: str) -> list[str]:
    return [op for op, task in TASKS.items() if inputs in task.inputs]


SECTIONS = ("task", "model", "train", "start")

# Fields that may differ between the members of one ensemble (trained in lockstep, one process).
# Every other field must be shared: it fixes shapes, the task or the optimizer's kind. Members'
# `interventions` may differ only in their float parameters: the ids, their order and integer
# parameters (`interventions.spec.signature`) are shared. The ticket fields may differ too: each
# member's mask and start weights are computed on their own.
MEMBER_FIELDS = (
    "seed",
    "order_seed",
    "split_seed",
    "frac",
    "n_train",
    "label_noise",
    "lr",
    "wd",
    "init_scale",
    "warmup",
    "init_from",
    "interventions",
    "ticket_from",
    "sparsity",
    "prune_scope",
    "mask_kind",
    "rewind",
    "reinit",
    "keep_checkpoint_at",
    "embed_from",
)


def task_data(configs: list[RunConfig]):
    """The members' data (tasks.TaskData), each from its own task config and seed, in the
    input format their (shared) model reads."""
    from phenolab.tasks import build

    reads = MODELS[configs[0].model.model].reads
    return build([c.task for c in configs], reads, [c.train.seed for c in configs])


@functools.cache
def _defaults() -> dict[str, Any]:
    """Every field's default value (built once: `canonical` compares each config with it)."""
    return RunConfig().flat()


def ensemble_key(cfg: RunConfig) -> tuple:
    """What members of one ensemble share: every field outside MEMBER_FIELDS, and the
    signature of the interventions (ids, order, integer parameters). The one statement of the
    rule: `check_ensemble` and `ensemble_groups` both ask it."""
    from phenolab.interventions.spec import signature

    shared = tuple((k, repr(v)) for k, v in cfg.flat().items() if k not in MEMBER_FIELDS)
    return (*shared, ("interventions", signature(cfg.interventions())))


def ensemble_groups(configs: list[RunConfig]) -> list[list[RunConfig]]:
    """`configs` split into groups that can each be trained as one ensemble, in order."""
    groups: dict[tuple, list[RunConfig]] = {}
    for cfg in configs:
        groups.setdefault(ensemble_key(cfg), []).append(cfg)
    return list(groups.values())


def check_ensemble(configs: list[RunConfig]) -> None:
    """Raise a ConfigError naming the first field, other than MEMBER_FIELDS, that differs, or
    `interventions` when members do not share their interventions' signature."""
    from phenolab.interventions.spec import describe_signature, signature

    first = ensemble_key(configs[0])
    for cfg in configs[1:]:
        theirs = ensemble_key(cfg)
        if theirs == first:
            continue
        for (name, ours), (_, value) in zip(first[:-1], theirs[:-1], strict=True):
            if ours != value:
                raise ConfigError(
                    f"{name}: cannot differ within an ensemble ({ours} vs {value}); "
                    f"fields that can: {', '.join(MEMBER_FIELDS)}"
                )
        raise ConfigError(
            "interventions: members of an ensemble must name the same interventions in the "
            "same order with the same integer parameters (float parameters may differ): "
            f"{describe_signature(signature(configs[0].interventions()))} vs "
            f"{describe_signature(signature(cfg.interventions()))}"
        )


_SECTION_TYPES = {
    "task": TaskConfig,
    "model": ModelConfig,
    "train": TrainConfig,
    "start": StartConfig,
}


def field_specs() -> dict[str, tuple[str, dataclasses.Field]]:
    """{leaf name: (section, dataclass field)} for every config field."""
    specs: dict[str, tuple[str, dataclasses.Field]] = {}
    for section, cls in _SECTION_TYPES.items():
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            assert f.name not in specs, f"config field {f.name} defined twice"
            f.type = hints[f.name]
            specs[f.name] = (section, f)
    return specs


def from_flat(values: dict[str, Any]) -> RunConfig:
    """Build a config from {leaf name: value} (strings are parsed); unknown names are errors."""
    specs = field_specs()
    unknown = sorted(set(values) - set(specs))
    if unknown:
        raise ConfigError(
            f"unknown config field {', '.join(map(repr, unknown))} "
            f"(valid fields: {', '.join(sorted(specs))})"
        )
    sections: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS}
    for name, value in values.items():
        section, f = specs[name]
        sections[section][name] = coerce(name, f.type, value)
    return RunConfig(**{s: _SECTION_TYPES[s](**kw) for s, kw in sections.items()})


def from_json(data: dict[str, Any]) -> RunConfig:
    """Build a config from a nested {section: {field: value}} or flat {field: value} dict."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key in SECTIONS and isinstance(value, dict):
            flat.update(value)
        else:
            flat[key] = value
    return from_flat(flat)


def coerce(name: str, typ: Any, value: Any) -> Any:
    """Convert `value` (maybe a CLI string) to the field's type, or raise a ConfigError."""
    origin = typing.get_origin(typ)
    args = typing.get_args(typ)
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null", "")):
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return coerce(name, inner, value)
    if origin is tuple:
        if not isinstance(value, str | list | tuple):  # e.g. a number in a JSON config file
            raise ConfigError(f"{name}: expected a list or comma-separated values, got {value!r}")
        items = value.split(",") if isinstance(value, str) else list(value)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(coerce(name, args[0], v) for v in items)
        if len(items) != len(args):
            raise ConfigError(f"{name}: expected {len(args)} comma-separated values, got {value!r}")
        return tuple(coerce(name, a, v) for a, v in zip(args, items, strict=True))
    try:
        if typ is bool:
            if isinstance(value, str):
                if value.lower() in ("1", "true", "yes", "on"):
                    return True
                if value.lower() in ("0", "false", "no", "off"):
                    return False
                raise ValueError
            return bool(value)
        if typ is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            if isinstance(value, str):
                return int(float(value)) if float(value).is_integer() else int(value)
            return int(value)
        if typ is float:
            return float(value)
        if typ is str:
            return str(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{name}: expected {getattr(typ, '__name__', typ)}, got {value!r}"
        ) from None
    return value


def _jsonable(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v
