"""Meeting runs where they already are: `detect` on logs phenolab did not write (CSV, JSON
lines, TensorBoard, MLflow), the watcher for a user's own training loop, exports of stored runs
(TensorBoard, MLflow, Parquet / CSV) and the pandas loader. The packages each needs are
optional extras (`extras.py`)."""
