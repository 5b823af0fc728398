"""Benchmarks of bitget_cancel against its simulator; ``python benchmarks/run.py``."""
