"""phenolab: a catalog of runnable, preregistered deep-learning phenomena."""

__version__ = "0.1.0"

# Bump when a change alters the curves a config produces: it is part of every run id, so runs
# trained by older code are not mistaken for runs of the new code.
RUN_FORMAT = 1
