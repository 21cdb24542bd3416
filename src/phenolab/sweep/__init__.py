"""Grids of configs: member fields and seeds expanded into member configs (`grid.expand`).
Training them — ensembles, shards, worker processes — is the run layer's (`phenolab.run`)."""
