"""Explanations on trial (`phenolab judge`): a fixed, hashed trial of conditions × seeds split
into development and held-out sets, candidate explanations (label-free measures with a
direction) and nulls (prime counts, elapsed steps, a random projection), scored on the same
tests. Every trial run is an ordinary stored run; candidates are computed afterwards from the
weights the runs keep.

Grokking:
    trial.py        the quick and full trials: conditions, split, seeds, kept steps, rules, hash
    candidates.py   the built-in candidates and nulls; a user's `--measure FILE.py:FN`
    evaluate.py     a run's kept weights rebuilt as one ensemble; candidates on blind data
    scorecard.py    tracking, telling when, forecasting (bootstrap intervals over conditions)
    invariance.py   function-preserving transforms of the embedding MLP
    predictions.py  each candidate's prediction under an intervention (written before any run)
    court.py        the whole trial: train, evaluate, follow-up arms, verdicts → Scorecard
    report.py       the HTML report: scorecard, figures, the self-assessment questions
Double descent (random-features width sweeps solved in closed form):
    doubledescent.py, ddcourt.py, ddreport.py
"""
