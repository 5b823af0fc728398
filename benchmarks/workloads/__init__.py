"""The workloads of ``benchmarks/run.py``, one module each.

A workload is a module with ``async def run(quick: bool) -> Section``; it is registered in one
place, ``WORKLOADS`` in ``benchmarks/run.py``. Modules starting with ``_`` are shared pieces.
Nothing is imported here: ``cpu_driver`` runs under valgrind, where every import is slow.
"""
