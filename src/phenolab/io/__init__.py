"""Meeting runs where they already are: `detect` on logs phenolab did not write (CSV, JSON
lines, TensorBoard, MLflow), the watcher for a user's own training loop, exports of stored runs
(TensorBoard, MLflow, Parquet / CSV) and the pandas loader. The packages each needs are
optional extras (`extras.py`)."""


def load(store="phenolab.db"):
    """A store's runs, metrics and verdicts as pandas DataFrames (io/tables.py)."""
    from phenolab.io.tables import load as load_tables

    return load_tables(store)


def watch(model, train, test, **options):
    """Record a user's own training loop into a phenolab store (io/watcher.py)."""
    from phenolab.io.watcher import Watcher

    return Watcher(model, train, test, **options)
