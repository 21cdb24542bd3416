"""phenolab: a catalog of runnable, preregistered deep-learning phenomena.

The layers and the way imports go are drawn in CONTRIBUTING.md. This module holds only what
every layer shares: the version, the run format, `param` (a config field with its help) and
`Registry` (name → object, the one way tasks, models, optimizers, losses, measures,
interventions and catalog entries are looked up by the name a config gives) — and, imported only
when first used, the two entry points for notebooks and a user's own training loop:
`phenolab.load(store)` and `phenolab.watch(model, ...)` (phenolab.io).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

__version__ = "0.1.0"

# Bump when a change alters the curves a config produces: it is part of every run id, so runs
# trained by older code are not mistaken for runs of the new code.
RUN_FORMAT = 1


def param(default: Any, help: str) -> Any:  # noqa: A002 - mirrors argparse
    """A config field with its one-line help, shown by `phenolab run --help`."""
    return dataclasses.field(default=default, metadata={"help": help})


class Registry:
    """Name → object, for each kind of thing a config names: tasks, models, optimizers, losses,
    measures, interventions and catalog entries. Adding one is one file and one
    `REGISTRY.register(name, obj)` (or `@REGISTRY.register(name)` on a function or class).

    A registered object builds itself (its own `build` method, or a call for a function), names
    the config fields it reads (`fields`, where that makes sense) and says what it is in one line:
    `summary`, else the first line of its docstring (`summary_of`), unless the registry is given
    its own `summary` function.

    Looking up an unknown name is the user's mistake: `get` (and `[]`) raise a ConfigError
    "<field>: unknown <what>'name' (valid: ...)" naming every registered name.

    Plugins: a registry given an entry-point group (`plugins`, e.g. "phenolab.measures") loads
    that group's entry points of every installed package the first time it is looked up, so a
    lab's package adds measures, interventions, tasks, models or catalog entries without editing
    phenolab. An entry point names a module (which registers its objects when imported) or an
    object, handed to `adopt(registry, entry point name, object)` (default: registered under the
    entry point's name). `origin` maps each plugin's name to its distribution; a plugin that
    fails to load is skipped with a warning, its error kept in `plugin_errors`.
    """

    def __init__(
        self,
        field: str | None,
        what: str = "",
        sort: bool = False,
        summary: Callable[[Any], str] | None = None,
        plugins: str | None = None,
        adopt: Callable[[Registry, str, Any], None] | None = None,
    ) -> None:
        self.field = field  # the config field holding a name, the prefix of the error; or None
        self.what = what  # the noun of the error, e.g. "measure " → "unknown measure 'x'"
        self.sort = sort  # list the valid names sorted (else in registration order)
        self.summary = summary or summary_of
        self._items: dict[str, Any] = {}
        self.plugins = plugins  # the entry-point group of plugins (None: no plugins)
        self.adopt = adopt or _adopt
        self.origin: dict[str, str] = {}  # name → the distribution a plugin came from
        self.plugin_errors: dict[str, str] = {}  # entry point → why it failed to load
        self._plugins_loaded = plugins is None

    def load_plugins(self, again: bool = False) -> None:
        """Load the entry points of the group `plugins` (once; `again`: look again, for a
        package installed since)."""
        if self._plugins_loaded and not again:
            return
        self._plugins_loaded = True  # before loading: a plugin may look the registry up
        import warnings
        from importlib.metadata import entry_points

        for ep in entry_points(group=self.plugins):
            dist = ep.dist.name if ep.dist is not None else ep.value.split(":")[0]
            before = set(self._items)
            try:
                obj = ep.load()
                if not _is_module(obj):
                    self.adopt(self, ep.name, obj)
            except Exception as exc:  # a broken plugin must not break phenolab
                self.plugin_errors[ep.name] = f"{type(exc).__name__}: {exc}"
                warnings.warn(
                    f"phenolab: plugin {ep.name!r} ({self.plugins}) of {dist} failed to load: "
                    f"{exc}",
                    stacklevel=2,
                )
                continue
            for name in set(self._items) - before:
                self.origin[name] = dist

    def register(self, name: str, obj: Any = None) -> Any:
        """Register `obj` under `name` and return it; without `obj`, a decorator that does."""
        if obj is None:
            return lambda o: self.register(name, o)
        if name in self._items:
            raise ValueError(f"{self.field or self.what.strip()} {name!r} registered twice")
        self._items[name] = obj
        return obj

    def unregister(self, name: str) -> None:
        """Forget `name` (tests that register a toy object clean up with it)."""
        del self._items[name]

    __delitem__ = unregister

    def get(self, name: str) -> Any:
        self.load_plugins()
        if name not in self._items:
            raise self.unknown(name)
        return self._items[name]

    __getitem__ = get

    def unknown(self, name: str, also: str = ""):
        """The ConfigError for an unknown `name`; `also` is appended to the valid names."""
        from phenolab.errors import ConfigError

        prefix = f"{self.field}: " if self.field else ""
        valid = ", ".join(self.names()) + also
        return ConfigError(f"{prefix}unknown {self.what}{name!r} (valid: {valid})")

    def names(self) -> list[str]:
        self.load_plugins()
        return sorted(self._items) if self.sort else list(self._items)

    def __contains__(self, name: object) -> bool:
        self.load_plugins()
        return name in self._items

    def __iter__(self):
        self.load_plugins()
        return iter(self._items)

    def __len__(self) -> int:
        self.load_plugins()
        return len(self._items)

    def items(self):
        self.load_plugins()
        return self._items.items()

    def values(self):
        self.load_plugins()
        return self._items.values()

    def describe(self) -> list[tuple[str, str]]:
        """[(name, one-line summary)] of every registered object, for listings and help."""
        return [(name, self.summary(self._items[name])) for name in self.names()]


def _is_module(obj: Any) -> bool:
    import types

    return isinstance(obj, types.ModuleType)


def _adopt(registry: Registry, name: str, obj: Any) -> None:
    """Register a plugin's object under its entry point's name (unless importing it did)."""
    if name not in registry._items:
        registry.register(name, obj)


def summary_of(obj: Any) -> str:
    """An object's one-line description: its `summary`, else its docstring's first line."""
    summary = getattr(obj, "summary", None)
    if isinstance(summary, str) and summary:
        return summary
    if type(obj).__module__ == "builtins" and not callable(obj):
        return ""  # a plain value (a string, a number): its type's docstring says nothing
    doc = (getattr(obj, "__doc__", None) or "").strip()
    return doc.splitlines()[0] if doc else ""


def __getattr__(name: str) -> Any:
    """`phenolab.load` and `phenolab.watch`, imported from phenolab.io when first asked for (the
    one import from the root to a higher layer: tests/test_layers.py names it)."""
    if name in ("load", "watch"):
        from phenolab import io

        return getattr(io, name)
    raise AttributeError(f"module 'phenolab' has no attribute {name!r}")
