"""The wave-promotion gate: after a release is activated on a wave of hosts, verify every
host's signed report (this tool's probe reports, or nixfleet-compliance's evidence.json),
check that it is bound to this wave, host and closure and fresh, apply the promotion
policy, and decide: promote, hold or roll back, naming every host and control behind it.

Layers, each depending only on those before it: the wave file and the policy
(:mod:`.wave`, :mod:`.policy`, :mod:`.durations`, :mod:`.hostkeys`), what a verified
report says (:mod:`.evidence`), the readers of the two report kinds (:mod:`.readers`),
the folder of reports (:mod:`.collect`), the ordered checks of one report
(:mod:`.verify`) and of many (:mod:`.parallel`), the decision (:mod:`.judge`,
:mod:`.decision`), its text and signed forms (:mod:`.render`, :mod:`.signed_decision`),
and the two ways to run it: once over a folder (:mod:`.session`, the ``compliance
promote`` command) or as an HTTP service (:mod:`.serve`).
"""
