"""Small helpers every stage may use: canonical JSON, the clock, safe file I/O, GC pauses.

Nothing here knows about controls, Nix or evidence; it depends only on ``models`` and
``errors``.
"""
