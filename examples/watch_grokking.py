"""Your own PyTorch loop, made to report its grokking by phenolab.watch (x + y mod 97)."""

import torch
import torch.nn.functional as F
from torch import nn

import phenolab

p = 97
torch.manual_seed(0)
pairs = torch.cartesian_prod(torch.arange(p), torch.arange(p))  # all (x, y)
labels = (pairs[:, 0] + pairs[:, 1]) % p
order = torch.randperm(len(pairs))
train, test = order[: len(pairs) * 3 // 10], order[len(pairs) * 3 // 10 :]  # 30 % train
x_train, y_train, x_test, y_test = pairs[train], labels[train], pairs[test], labels[test]

model = nn.Sequential(
    nn.Embedding(p, 64), nn.Flatten(), nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, p)
)
opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1.0)
w = phenolab.watch(model, (x_train, y_train), (x_test, y_test), store="mine.db", every=25)
for step in range(1, 3001):
    loss = F.cross_entropy(model(x_train), y_train)
    opt.zero_grad()
    loss.backward()
    opt.step()
    w.step(step)  # on the evaluation grid: train/test loss and accuracy, weight norm → mine.db
events = w.finish()
print(f"run {w.run_id}: {events.phase}, t_fit {events.t_fit}, t_gen {events.t_gen}")
print(f"report: phenolab report {w.run_id} --store mine.db")
