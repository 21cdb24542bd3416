"""Curves → events (t_fit, t_gen), phases and verdicts."""
