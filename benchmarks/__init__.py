"""Measured, not claimed: the tutor against the tools a learner would otherwise use.

Run every benchmark with ``python -m benchmarks``; the results go to the terminal
and to docs/performance.md, with the machine they ran on.
"""
