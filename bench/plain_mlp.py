"""The baseline a researcher would write: a plain PyTorch loop training an embedding MLP on
x+y mod p to test accuracy ≥ 0.99 (checked every `--eval-every` steps), printing JSON.

    python bench/plain_mlp.py --width 256 --d-embed 128 --lr 3e-3

Seconds are counted from process start (interpreter and `import torch` included), like the
phenolab command it is compared with.
"""

import argparse
import json
import time

T_PROCESS = time.time()

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


class EmbedMLP(nn.Module):
    def __init__(self, p: int, d_embed: int, width: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(p, d_embed)
        self.hidden = nn.Linear(2 * d_embed, width)
        self.out = nn.Linear(width, p)

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        e = self.embed(pairs).flatten(1)  # [B, 2·d_embed]
        return self.out(F.relu(self.hidden(e)))


def modular_data(p: int, frac: float, seed: int, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    pairs = torch.cartesian_prod(torch.arange(p), torch.arange(p))
    labels = (pairs[:, 0] + pairs[:, 1]) % p
    perm = torch.randperm(len(pairs), generator=g)
    n_train = int(frac * len(pairs))
    tr, te = perm[:n_train], perm[n_train:]
    return [t.to(device) for t in (pairs[tr], labels[tr], pairs[te], labels[te])]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--p", type=int, default=97)
    ap.add_argument("--frac", type=float, default=0.3)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--d-embed", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--wd", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-steps", type=int, default=20_000)
    ap.add_argument("--eval-every", type=int, default=100)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    x_tr, y_tr, x_te, y_te = modular_data(args.p, args.frac, args.seed)
    model = EmbedMLP(args.p, args.d_embed, args.width)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.wd, betas=(0.9, 0.98))
    t_loop = time.time()
    t_gen = None
    for step in range(1, args.max_steps + 1):
        loss = F.cross_entropy(model(x_tr), y_tr)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % args.eval_every == 0:
            with torch.no_grad():
                acc = (model(x_te).argmax(-1) == y_te).float().mean().item()
            if acc >= 0.99:
                t_gen = step
                break
    now = time.time()
    print(
        json.dumps(
            {
                "t_gen": t_gen,
                "steps": step,
                "loop_seconds": now - t_loop,
                "seconds_from_process_start": now - T_PROCESS,
                "steps_per_second": step / (now - t_loop),
            }
        )
    )


if __name__ == "__main__":
    main()
