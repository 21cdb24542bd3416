"""The watcher as a Lightning Callback and a Hugging Face TrainerCallback, each driven by the
real trainer on a tiny model (skipped where the [lightning] / [hf] extra is not installed)."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from phenolab.store import Store


def toy_data():
    torch.manual_seed(0)
    x = torch.randn(64, 5)
    y = (x[:, 0] > 0).long() + 2 * (x[:, 1] > 0).long()
    return (x[:48], y[:48]), (x[48:], y[48:])


def check_run(db, steps):
    (record,) = Store(db).runs()
    assert record.status == "finished" and record.external["source"] == "watch"
    metrics = Store(db).metrics(record.id)
    assert metrics["train/acc"][0][0] == 0 and metrics["train/acc"][0][-1] == steps
    assert record.summary["phase"] in (
        "comprehension",
        "grokking",
        "semi-grokking",
        "memorization",
        "confusion",
    )


def test_lightning_callback(tmp_path):
    pl = pytest.importorskip("lightning.pytorch", reason="the [lightning] extra")
    from phenolab.io.adapters import lightning_callback

    train, test = toy_data()

    class Module(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 4))

        def forward(self, x):
            return self.net(x)

        def training_step(self, batch, _):
            x, y = batch
            return F.cross_entropy(self(x), y)

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=0.05)

    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*train), batch_size=16)
    db = tmp_path / "l.db"
    trainer = pl.Trainer(
        max_steps=30,
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[lightning_callback(train, test, store=str(db), every=10)],
    )
    trainer.fit(Module(), loader)
    check_run(db, 30)


def test_transformers_callback(tmp_path):
    transformers = pytest.importorskip("transformers", reason="the [hf] extra")
    pytest.importorskip("accelerate", reason="the [hf] extra (transformers' Trainer needs it)")
    from phenolab.io.adapters import transformers_callback

    train, test = toy_data()

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 4))

        def forward(self, x, labels=None):
            logits = self.net(x)
            out = {"logits": logits}
            if labels is not None:
                out["loss"] = F.cross_entropy(logits, labels)
            return out

    rows = [{"x": x, "labels": y} for x, y in zip(*train, strict=True)]
    db = tmp_path / "h.db"
    args = transformers.TrainingArguments(
        output_dir=str(tmp_path / "out"),
        max_steps=30,
        per_device_train_batch_size=16,
        learning_rate=0.05,
        report_to=[],
        save_strategy="no",
        logging_strategy="no",
        use_cpu=True,
        disable_tqdm=True,
    )
    trainer = transformers.Trainer(
        model=Model(),
        args=args,
        train_dataset=rows,
        callbacks=[transformers_callback(train, test, store=str(db), every=10)],
    )
    trainer.train()
    check_run(db, 30)
