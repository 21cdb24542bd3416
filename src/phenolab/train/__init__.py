"""The one training loop, its optimizers, losses and schedules."""
