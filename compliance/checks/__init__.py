"""The contract that checks implement: the registry, the subject handed to predicates and
the judges that predicates and probes share (sysctl values, sshd configuration).

Predicates (``compliance.predicates``), probes (``compliance.probes``), the host interface
(``compliance.hosts``) and vulnerability matching (``compliance.vulns``) sit beside this
package in the same stage: they build on it, never on the stages after it.
"""
