"""The one door to training: everything between a validated config and a stored run."""
