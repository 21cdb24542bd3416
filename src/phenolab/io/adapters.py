"""The watcher (`watcher.py`) as a callback of the trainers people use: a PyTorch Lightning
`Callback` and a Hugging Face transformers `TrainerCallback`. Each is built on first use, so
that neither package is imported unless asked for (extras [lightning] and [hf]).

    trainer = lightning.Trainer(callbacks=[phenolab.io.adapters.lightning_callback(
        train=(x, y), test=(x_test, y_test), store="phenolab.db")])

    trainer = transformers.Trainer(..., callbacks=[phenolab.io.adapters.transformers_callback(
        train=(x, y), test=(x_test, y_test), store="phenolab.db")])

The model is called on the train and test inputs as `model(x)`; its output is the logits, or
has them (`outputs.logits`, `outputs["logits"]`). Steps are the trainer's global step.
"""

from __future__ import annotations

from phenolab.io.extras import require
from phenolab.io.watcher import Watcher


def lightning_callback(train, test, **options):
    """A lightning.pytorch Callback that watches the LightningModule from fit start to fit end
    (Watcher's options: measures, store, name, every, loss, params)."""
    pl = require("lightning.pytorch", "lightning")

    class WatchCallback(pl.Callback):
        def __init__(self) -> None:
            self.watcher: Watcher | None = None

        def on_fit_start(self, trainer, pl_module) -> None:
            self.watcher = Watcher(pl_module, train, test, **options)
            self.watcher.step(trainer.global_step)

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
            self.watcher.step(trainer.global_step)

        def on_fit_end(self, trainer, pl_module) -> None:
            self.watcher.finish(trainer.global_step)

    return WatchCallback()


def transformers_callback(train, test, **options):
    """A transformers TrainerCallback that watches the Trainer's model from train begin to
    train end (Watcher's options)."""
    transformers = require("transformers", "hf")

    class WatchTrainerCallback(transformers.TrainerCallback):
        def __init__(self) -> None:
            self.watcher: Watcher | None = None

        def on_train_begin(self, args, state, control, model=None, **kwargs):
            self.watcher = Watcher(model, train, test, **options)
            self.watcher.step(state.global_step)

        def on_step_end(self, args, state, control, **kwargs):
            self.watcher.step(state.global_step)

        def on_train_end(self, args, state, control, **kwargs):
            self.watcher.finish(state.global_step)

    return WatchTrainerCallback()
