"""How runtime probes reach a host: the local machine, SSH, or an offline root folder.

Probes only see :class:`~compliance.hosts.host_api.Host`; the probe run picks the
transport (:func:`compliance.runs.host_open.open_host`). Nothing is imported here, so that
loading the probes never loads a transport.
"""
