"""flake.nix, the package and the NixOS module: they parse (``nix-instantiate --parse``);
the package's Python dependencies are exactly pyproject's; the module's options are the
documented ones and its config function renders the agent's command line, credentials
and timer. Without a nixpkgs (no network here) the module is evaluated with a small
stand-in for ``nixpkgs.lib`` (a few list and string functions; no module system, so the
defaults are taken from the declarations by the test itself); with one, inside a real
NixOS evaluation."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import tomllib
from typing import Any

import pytest

from tests.support.cli import ROOT, run

NIX_INSTANTIATE = shutil.which("nix-instantiate")
requires_nix = pytest.mark.skipif(NIX_INSTANTIATE is None, reason="needs nix-instantiate (nix-bin)")
FILES = ["flake.nix", "nix/package.nix", "nix/nixos-module.nix"]

STUB_LIB = r"""
  lib = rec {
    mkOption = decl: decl;
    mkEnableOption = what: { type = "bool"; default = false; description = "Whether to enable ${what}."; };
    mkIf = cond: value: if cond then value else { };
    literalExpression = text: text;
    optionals = cond: list: if cond then list else [ ];
    concatMap = f: list: builtins.concatLists (map f list);
    escapeShellArg = arg: "'" + builtins.replaceStrings [ "'" ] [ "'\\''" ] arg + "'";
    escapeShellArgs = args: builtins.concatStringsSep " " (map escapeShellArg args);
    types = { package = "package"; path = "path"; str = "str"; bool = "bool";
              nullOr = t: "null or ${t}"; listOf = t: "list of ${t}"; };
  };
"""


def nix_eval(expression: str) -> Any:
    assert NIX_INSTANTIATE is not None
    proc = subprocess.run([NIX_INSTANTIATE, "--eval", "--strict", "--json", "-E", expression],
                          capture_output=True, text=True, cwd=ROOT, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@requires_nix
@pytest.mark.parametrize("name", FILES)
def test_the_nix_files_parse(name: str) -> None:
    assert NIX_INSTANTIATE is not None
    proc = subprocess.run([NIX_INSTANTIATE, "--parse", str(ROOT / name)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


@requires_nix
def test_a_syntax_error_is_caught(tmp_path: Any) -> None:
    """The parse test can fail: a file with an unbalanced brace does not parse."""
    broken = tmp_path / "broken.nix"
    broken.write_text((ROOT / "nix/nixos-module.nix").read_text().rstrip().rstrip("}"))
    assert NIX_INSTANTIATE is not None
    proc = subprocess.run([NIX_INSTANTIATE, "--parse", str(broken)], capture_output=True, text=True, check=False)
    assert proc.returncode != 0 and "syntax error" in proc.stderr


@requires_nix
def test_the_flake_declares_its_outputs_over_nixpkgs() -> None:
    flake = nix_eval("let f = import ./flake.nix; in { url = f.inputs.nixpkgs.url; args = builtins.functionArgs f.outputs; }")
    assert flake == {"url": "github:NixOS/nixpkgs/nixos-unstable", "args": {"self": False, "nixpkgs": False}}
    text = (ROOT / "flake.nix").read_text()
    for output in ("overlays.default", "packages = forAllSystems", "default = pkgs.compliance-gate", "apps = forAllSystems",
                   "nixosModules.default", 'type = "app"'):
        assert output in text


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@requires_nix
def test_the_package_depends_on_exactly_what_pyproject_declares() -> None:
    declared = [re.split(r"[<>=!~ \[]", dep, maxsplit=1)[0] for dep in
                tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]]
    python_packages = " ".join(f'"{name}" = "{name}";' for name in [*declared, "hatchling"])
    package = nix_eval(f"""
      let
        lib = {{ makeBinPath = ps: builtins.concatStringsSep ":" (map (p: p + "/bin") ps);
                licenses.asl20 = "asl20"; platforms.linux = [ "x86_64-linux" ]; }};
        python3Packages = {{ {python_packages} buildPythonApplication = attrs: attrs; }};
      in import ./nix/package.nix {{
        inherit lib python3Packages;
        openssh = "/nix/store/openssh"; dejavu_fonts = "dejavu";
        makeFontsConf = {{ fontDirectories }}: "/nix/store/fonts.conf";
        src = ./.;
      }} // {{ src = null; }}
    """)
    assert sorted(_normalise(d) for d in package["dependencies"]) == sorted(_normalise(d) for d in declared)
    assert package["build-system"] == ["hatchling"]
    assert package["pyproject"] is True and package["meta"]["mainProgram"] == "compliance"
    assert package["makeWrapperArgs"] == ["--prefix", "PATH", ":", "/nix/store/openssh/bin",
                                          "--set-default", "FONTCONFIG_FILE", "/nix/store/fonts.conf"]


def _module(settings: str) -> Any:
    return nix_eval(f"""
      let
        {STUB_LIB}
        pkgs = {{ compliance-gate = "/nix/store/00000000000000000000000000000000-compliance-gate";
                 openssh = "openssh"; iproute2 = "iproute2"; nftables = "nftables"; util-linux = "util-linux";
                 kmod = "kmod"; systemd = "systemd"; }};
        declared = (import ./nix/nixos-module.nix {{ inherit lib pkgs; config = {{}}; }}).options.services.compliance-agent;
        defaults = builtins.mapAttrs (name: option: option.default or null) declared;
        config = {{ services.compliance-agent = defaults // ({settings}); }};
        module = import ./nix/nixos-module.nix {{ inherit config lib pkgs; }};
      in {{
        options = builtins.attrNames module.options.services.compliance-agent;
        types = builtins.mapAttrs (name: option: option.type) declared;
        config = module.config;
      }}
    """)


@requires_nix
def test_the_module_declares_the_agent_options() -> None:
    module = _module("{}")
    assert set(module["options"]) >= {"enable", "package", "keyFile", "serverUrl", "tokenFile", "profiles", "schedule", "extraArgs"}
    assert module["types"]["profiles"] == "list of str" and module["types"]["tokenFile"] == "null or path"
    assert module["config"] == {}  # not enabled: nothing


@requires_nix
def test_the_module_renders_the_agent_service_and_timer() -> None:
    module = _module("""{ enable = true; serverUrl = "https://gate.example:8443"; keyFile = "/var/lib/keys/host.key";
                          tokenFile = "/run/secrets/token"; profiles = [ "nis2-essential" "anssi-intermediary" ];
                          schedule = "*-*-* 06:00:00"; extraArgs = [ "--timeout" "60" ]; }""")
    service = module["config"]["systemd"]["services"]["compliance-agent"]["serviceConfig"]
    assert shlex.split(service["ExecStart"]) == [
        "/nix/store/00000000000000000000000000000000-compliance-gate/bin/compliance", "agent",
        "--server", "https://gate.example:8443", "--key", "%d/key", "--token-file", "%d/token",
        "--profile", "nis2-essential", "--profile", "anssi-intermediary", "--once", "--timeout", "60"]
    assert service["LoadCredential"] == ["key:/var/lib/keys/host.key", "token:/run/secrets/token"]
    assert service["Type"] == "oneshot" and service["NoNewPrivileges"] is True and service["ProtectSystem"] == "strict"
    assert "CAP_SYS_ADMIN" not in service["CapabilityBoundingSet"]
    timer = module["config"]["systemd"]["timers"]["compliance-agent"]
    assert timer["timerConfig"]["OnCalendar"] == "*-*-* 06:00:00" and timer["wantedBy"] == ["timers.target"]


@requires_nix
def test_without_a_token_the_agent_gets_no_token_option() -> None:
    module = _module("""{ enable = true; serverUrl = "https://gate"; keyFile = "/k"; }""")
    service = module["config"]["systemd"]["services"]["compliance-agent"]["serviceConfig"]
    assert "--token-file" not in shlex.split(service["ExecStart"])
    assert service["LoadCredential"] == ["key:/k"]
    assert module["config"]["systemd"]["timers"]["compliance-agent"]["timerConfig"]["OnCalendar"] == "hourly"


def test_the_agent_takes_the_options_the_module_passes() -> None:
    result = run("agent", "--help")
    if result.code != 0:
        pytest.skip("this build has no `compliance agent` command yet")
    for flag in ("--server", "--key", "--profile", "--token-file", "--once"):
        assert flag in result.stdout


def _nixpkgs() -> bool:
    if NIX_INSTANTIATE is None:
        return False
    proc = subprocess.run([NIX_INSTANTIATE, "--find-file", "nixpkgs"], capture_output=True, check=False)
    return proc.returncode == 0


@pytest.mark.skipif(not _nixpkgs(), reason="needs a nixpkgs on NIX_PATH (there is no network here)")
def test_the_module_evaluates_in_a_nixos_configuration() -> None:
    unit = nix_eval("""
      (import <nixpkgs/nixos/lib/eval-config.nix> {
        modules = [ ./nix/nixos-module.nix {
          nixpkgs.overlays = [ (final: prev: { compliance-gate = prev.hello; }) ];
          boot.isContainer = true; system.stateVersion = "24.11";
          services.compliance-agent = { enable = true; serverUrl = "https://gate"; keyFile = "/k"; };
        } ];
      }).config.systemd.services.compliance-agent.serviceConfig.ExecStart
    """)
    assert "--server" in unit and "%d/key" in unit
