"""Benchmarks for Focus Bot: `python -m bench` runs them all and prints a table.

Each module measures one thing against a target (see docs/BENCHMARKS.md):
`updates` (update handling vs a bare echo bot), `answer_engine` (the KnowledgeIndex at 1x, 10x
and 100x content), `broadcast` (the real sender against a rate-limited Bot API stand-in) and
`memory` (resident memory and start-up time of a fresh process).
"""
