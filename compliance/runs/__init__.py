"""Use cases, one per command: the only place where stages are wired together.

A run takes typed options, reads the inputs, asks the catalog for a selection, assesses,
and hands the result to the output stages. The CLI parses arguments and calls a run.
"""
