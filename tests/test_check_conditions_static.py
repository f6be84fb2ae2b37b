"""Each failure condition of a static predicate, alone: a subject the predicate passes, and
the same subject with one thing changed, which fails with exactly that reason."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from compliance.checks import registry
from compliance.models.common import Status
from compliance.models.control import CheckKind
from tests.support.fixtures import build_subject, fake_store_path


def _facts(options: dict[str, Any]) -> dict[str, Any]:
    return {"facts": {"facts_version": 1, "origin": {"file": "fixture"}, "options": options}}


def _sysctl(**values: Any) -> dict[str, Any]:
    return _facts({"boot": {"kernel": {"sysctl": {k.replace("__", "."): v for k, v in values.items()}}}})


def _firewall(**changes: Any) -> dict[str, Any]:
    firewall = {"enable": True, "allowedTCPPorts": [22], "allowedUDPPorts": [], "allowedTCPPortRanges": [],
                "allowedUDPPortRanges": [], "interfaces": {}, "trustedInterfaces": ["lo"], **changes}
    return _facts({"networking": {"firewall": firewall}})


def _component(name: str, **fields: Any) -> dict[str, Any]:
    return {"type": "library", "name": name, "version": "1.0", "purl": f"pkg:nix/{name}@1.0",
            "hashes": [{"alg": "SHA-256", "content": "ab" * 32}], **fields}


def _sbom(*components: dict[str, Any], graph: bool = True) -> dict[str, Any]:
    doc: dict[str, Any] = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": list(components)}
    if graph:
        doc["dependencies"] = [{"ref": "a", "dependsOn": []}]
        doc["components"][0]["bom-ref"] = "a"
    return {"sbom": doc}


def _kernel(config: str) -> dict[str, Any]:
    return {"kernel_config": config}


KERNEL_OK = "CONFIG_STACKPROTECTOR_STRONG=y\nCONFIG_STRICT_KERNEL_RWX=y\n# CONFIG_PROC_KCORE is not set\n"
SYSCTL = {"expected": {"kernel.kptr_restrict": "2", "kernel.yama.ptrace_scope": ">=1", "kernel.perf_event_paranoid": "<=3",
                       "net.core.bpf_jit_harden": "2"}}
SYSCTL_OK = {"kernel__kptr_restrict": 2, "kernel__yama__ptrace_scope": 1, "kernel__perf_event_paranoid": 3, "net__core__bpf_jit_harden": 2}

# predicate, parameters, subject it passes, the same subject with one change, the whole failure message
CASES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any], str]] = [
    # sysctl_baseline: each kind of bound, and a key left to the kernel default
    ("sysctl_baseline", SYSCTL, _sysctl(**SYSCTL_OK), _sysctl(**{**SYSCTL_OK, "kernel__kptr_restrict": 1}),
     "1 of 4 sysctls off baseline: kernel.kptr_restrict is 1, expected 2"),
    ("sysctl_baseline", SYSCTL, _sysctl(**SYSCTL_OK), _sysctl(**{**SYSCTL_OK, "kernel__yama__ptrace_scope": 0}),
     "1 of 4 sysctls off baseline: kernel.yama.ptrace_scope is 0, expected >=1"),
    ("sysctl_baseline", SYSCTL, _sysctl(**SYSCTL_OK), _sysctl(**{**SYSCTL_OK, "kernel__perf_event_paranoid": 4}),
     "1 of 4 sysctls off baseline: kernel.perf_event_paranoid is 4, expected <=3"),
    ("sysctl_baseline", SYSCTL, _sysctl(**SYSCTL_OK), _sysctl(**{k: v for k, v in SYSCTL_OK.items() if k != "net__core__bpf_jit_harden"}),
     "1 of 4 sysctls off baseline: net.core.bpf_jit_harden is not set (the kernel default applies), expected 2"),
    ("sysctl_baseline", SYSCTL, _sysctl(**SYSCTL_OK), _sysctl(**{**SYSCTL_OK, "kernel__kptr_restrict": "two"}),
     "1 of 4 sysctls off baseline: kernel.kptr_restrict is 'two', expected 2"),
    # nixos_options / bounds / includes
    ("nixos_options", {"expected": {"security.sudo.wheelNeedsPassword": True}},
     _facts({"security": {"sudo": {"wheelNeedsPassword": True}}}), _facts({"security": {"sudo": {"wheelNeedsPassword": 1}}}),
     "security.sudo.wheelNeedsPassword is 1, expected true"),
    ("nixos_option_bounds", {"expected": {"security.pam.loginLimits.max": ">=3"}},
     _facts({"security": {"pam": {"loginLimits": {"max": 3}}}}), _facts({"security": {"pam": {"loginLimits": {"max": 2}}}}),
     "security.pam.loginLimits.max is 2, expected >=3"),
    ("nixos_option_bounds", {"expected": {"security.pam.loginLimits.max": ">=3"}},
     _facts({"security": {"pam": {"loginLimits": {"max": 3}}}}), _facts({"security": {"pam": {"loginLimits": {"max": True}}}}),
     "security.pam.loginLimits.max is true, expected >=3"),
    ("nixos_option_includes", {"required_entries": {"boot.kernelParams": ["slab_nomerge", "init_on_alloc=1"]}},
     _facts({"boot": {"kernelParams": ["quiet", "slab_nomerge", "init_on_alloc=1"]}}),
     _facts({"boot": {"kernelParams": ["quiet", "slab_nomerge"]}}), "boot.kernelParams lacks init_on_alloc=1"),
    # firewall_enabled: each way of opening the host
    ("firewall_enabled", {}, _firewall(), _firewall(enable=False), "networking.firewall.enable is not true"),
    ("firewall_enabled", {}, _firewall(), _firewall(trustedInterfaces=["lo", "eth0"]), "trusted interfaces accept all inbound traffic: eth0"),
    ("firewall_enabled", {"allowed_tcp_ports": [22]}, _firewall(), _firewall(allowedTCPPorts=[22, 8080]),
     "TCP ports open beyond the allowlist: [8080]"),
    ("firewall_enabled", {"allowed_udp_ports": [51820]}, _firewall(allowedUDPPorts=[51820]), _firewall(allowedUDPPorts=[51820, 53]),
     "UDP ports open beyond the allowlist: [53]"),
    ("firewall_enabled", {"allowed_tcp_ports": [22, 8000, 8001], "allow_port_ranges": True},
     _firewall(allowedTCPPortRanges=[{"from": 8000, "to": 8001}]), _firewall(allowedTCPPortRanges=[{"from": 8000, "to": 8002}]),
     "TCP port ranges open ports beyond the allowlist: 8000-8002"),
    ("firewall_enabled", {"allow_port_ranges": False}, _firewall(), _firewall(allowedUDPPortRanges=[{"from": 6000, "to": 6001}]),
     "port ranges are opened"),
    # kernel_config_options
    ("kernel_config_options", {"required": {"CONFIG_STACKPROTECTOR_STRONG": ["y"], "CONFIG_STRICT_KERNEL_RWX": ["y"]}},
     _kernel(KERNEL_OK), _kernel(KERNEL_OK.replace("CONFIG_STRICT_KERNEL_RWX=y\n", "")),
     "1 required option(s) not set: CONFIG_STRICT_KERNEL_RWX"),
    ("kernel_config_options", {"required": {"CONFIG_STACKPROTECTOR_STRONG": ["y"]}},
     _kernel(KERNEL_OK), _kernel(KERNEL_OK.replace("CONFIG_STACKPROTECTOR_STRONG=y", "CONFIG_STACKPROTECTOR_STRONG=m")),
     "1 required option(s) not set: CONFIG_STACKPROTECTOR_STRONG"),
    ("kernel_config_options", {"forbidden": ["CONFIG_PROC_KCORE"]},
     _kernel(KERNEL_OK), _kernel(KERNEL_OK.replace("# CONFIG_PROC_KCORE is not set", "CONFIG_PROC_KCORE=y")),
     "forbidden option(s) set: CONFIG_PROC_KCORE"),
    ("kernel_config_options", {"forbidden": ["CONFIG_PROC_KCORE"]},
     _kernel(KERNEL_OK), _kernel(KERNEL_OK.replace("# CONFIG_PROC_KCORE is not set", "CONFIG_PROC_KCORE=m")),
     "forbidden option(s) set: CONFIG_PROC_KCORE"),
    # package_denylist
    ("package_denylist", {"denylist": ["gdb", "strace*"]}, {"closure": {"app-1.0": ["glibc-2.39"], "glibc-2.39": []}},
     {"closure": {"app-1.0": ["glibc-2.39", "strace-6.7"], "glibc-2.39": [], "strace-6.7": []}},
     "1 denied package(s) in the closure: strace"),
    # no_insecure_packages_permitted
    ("no_insecure_packages_permitted", {"approved": ["openssl-1.1.1w"]},
     _facts({"nixpkgs": {"config": {"permittedInsecurePackages": ["openssl-1.1.1w"]}}}),
     _facts({"nixpkgs": {"config": {"permittedInsecurePackages": ["openssl-1.1.1w", "python-2.7.18"]}}}),
     "insecure packages permitted without approval: python-2.7.18"),
    # sbom_component_quality: each property of a component, and the graph
    ("sbom_component_quality", {}, _sbom(_component("zlib")), _sbom(_component("zlib", version=None)),
     "1 component(s) no version"),
    ("sbom_component_quality", {}, _sbom(_component("zlib")), _sbom(_component("zlib", purl=None)),
     "1 component(s) no identifier"),
    ("sbom_component_quality", {}, _sbom(_component("zlib")), _sbom(_component("zlib", hashes=[{"alg": "MD5", "content": "ab" * 16}])),
     "1 component(s) weak hash only"),
    ("sbom_component_quality", {"require_hash": True}, _sbom(_component("zlib")), _sbom(_component("zlib", hashes=[])),
     "1 component(s) no strong hash"),
    ("sbom_component_quality", {}, _sbom(_component("zlib")), _sbom(_component("zlib"), graph=False), "no dependency graph"),
    # licence_policy
    ("licence_policy", {}, _sbom(_component("zlib", licenses=[{"license": {"id": "Zlib"}}])),
     _sbom(_component("zlib", licenses=[{"license": {"name": "AGPLv3"}}])), "1 component(s) carry a denied licence"),
    ("licence_policy", {}, _sbom(_component("zlib", licenses=[{"license": {"id": "Zlib"}}])),
     _sbom(_component("zlib", licenses=[{"license": {"name": "LicenseRef-acme-eula"}}])),
     '1 licence(s) name no known licence (unknown = "fail")'),
    ("licence_policy", {}, _sbom(_component("zlib", licenses=[{"license": {"id": "Zlib"}}])), _sbom(_component("zlib")),
     "1 component(s) have no licence (at most 0 allowed)"),
]


def _message(predicate: str, params: dict[str, Any], spec: dict[str, Any], workdir: Path) -> tuple[Status, str]:
    check = registry.get(CheckKind.STATIC, predicate)
    assert check is not None, predicate
    workdir.mkdir(parents=True, exist_ok=True)
    outcome = check.func(build_subject(copy.deepcopy(spec), workdir), check.params.model_validate(params))
    return outcome.status, outcome.message


@pytest.mark.parametrize(("predicate", "params", "good", "bad", "message"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_condition_fails_alone(predicate: str, params: dict[str, Any], good: dict[str, Any], bad: dict[str, Any],
                                    message: str, tmp_path: Path) -> None:
    status, said = _message(predicate, params, good, tmp_path / "good")
    assert status is Status.PASS, said
    status, said = _message(predicate, params, bad, tmp_path / "bad")
    assert (status, said) == (Status.FAIL, message)


def test_sbom_coverage_fails_below_its_threshold_and_by_the_matching_allowed(tmp_path: Path) -> None:
    closure = {"app-1.0": ["zlib-1.3.1"], "zlib-1.3.1": []}
    by_path = [_component("app", version="1.0", properties=[{"name": "nix:output_path", "value": fake_store_path("app-1.0")}]),
               _component("zlib", version="1.3.1", purl="pkg:nix/zlib@1.3.1")]
    spec = {"closure": closure, **_sbom(*by_path)}
    assert _message("sbom_covers_closure", {}, spec, tmp_path / "a")[0] is Status.PASS
    # zlib is matched by its purl only: without purl (and name/version) matching it is uncovered
    status, said = _message("sbom_covers_closure", {"match_by": ["store_path"]}, spec, tmp_path / "b")
    assert (status, said) == (Status.FAIL, "1 of 2 store paths are missing from the SBOM (coverage 50.0%, needs 100%)")
    assert _message("sbom_covers_closure", {"match_by": ["store_path"], "min_coverage": 0.5}, spec, tmp_path / "c")[0] is Status.PASS
    status, said = _message("sbom_covers_closure", {"match_by": ["store_path"], "min_coverage": 0.51}, spec, tmp_path / "d")
    assert (status, said) == (Status.FAIL, "1 of 2 store paths are missing from the SBOM (coverage 50.0%, needs 51%)")


def test_kernel_config_options_observe_each_option_and_read_absent_as_unset(tmp_path: Path) -> None:
    """Absent options are "n": a forbidden one absent is not set, a required one that may be
    "n" is met; every option not as required is listed, with the value seen."""
    check = registry.get(CheckKind.STATIC, "kernel_config_options")
    assert check is not None
    params = check.params.model_validate({"required": {"CONFIG_A": ["y"], "CONFIG_B": ["y", "m"], "CONFIG_C": ["n", "y"]},
                                          "forbidden": ["CONFIG_D", "CONFIG_E"]})
    outcome = check.func(build_subject(_kernel("CONFIG_B=n\nCONFIG_E=m\n"), tmp_path), params)
    assert (outcome.status, outcome.message) == (Status.FAIL, "2 required option(s) not set: CONFIG_A, CONFIG_B; forbidden option(s) set: CONFIG_E")
    assert outcome.observed == {"config": "fixture kernel config", "options_in_config": 2, "forbidden_set": ["CONFIG_E"],
                                "not_as_required": {"CONFIG_A": {"value": "n", "allowed": ["y"]}, "CONFIG_B": {"value": "n", "allowed": ["y", "m"]}}}
    good = check.func(build_subject(_kernel("CONFIG_A=y\nCONFIG_B=m\n"), tmp_path / "good"), params)
    assert (good.status, good.message) == (Status.PASS, "3 required and 2 forbidden options as expected in fixture kernel config")
    assert good.observed["not_as_required"] == {} and good.observed["forbidden_set"] == []
