"""Datasets as tensors."""
