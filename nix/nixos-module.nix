# services.compliance-agent: the host probes its own effective state on a schedule,
# signs the report with its key and uploads it to the report service
# (`compliance promote --serve`), which hands out the current wave and its nonce.
#
# The timer starts a oneshot `compliance agent --once` run; the agent fetches the wave,
# probes, signs, uploads and retries with backoff within the run. The probes read the
# real system (/etc/shadow, sshd -T, the firewall ruleset, audit rules, every mount), so
# the unit runs as root, with its capabilities cut to those reads and the file system
# read-only except its state folder. It does not get PrivateTmp, ProtectKernelTunables or
# ProtectHome=yes: they would hide from the probes what they must judge (as
# nixfleet-compliance's collector also leaves them off).
{ config, lib, pkgs, ... }:

let
  cfg = config.services.compliance-agent;
  inherit (lib) mkOption mkEnableOption mkIf types;

  command = [
    "${cfg.package}/bin/compliance"
    "agent"
    "--server"
    cfg.serverUrl
    "--key"
    "%d/key"
  ]
  ++ lib.optionals (cfg.tokenFile != null) [ "--token-file" "%d/token" ]
  ++ lib.concatMap (profile: [ "--profile" profile ]) cfg.profiles
  ++ [ "--once" ]
  ++ cfg.extraArgs;
in
{
  options.services.compliance-agent = {
    enable = mkEnableOption "the compliance agent: the host probes itself on a schedule and uploads its signed report";

    package = mkOption {
      type = types.package;
      default = pkgs.compliance-gate;
      defaultText = lib.literalExpression "pkgs.compliance-gate";
      description = "The compliance-gate package whose `compliance agent` runs.";
    };

    keyFile = mkOption {
      type = types.path;
      example = "/var/lib/compliance-agent/host.key";
      description = ''
        The host's signing key (cosign-compatible, from `compliance keys generate`), whose
        public half the wave file pins for this host. Read by systemd and handed to the
        agent as a credential; keep it out of the Nix store (a string path, not a literal).
      '';
    };

    serverUrl = mkOption {
      type = types.str;
      example = "https://gate.example.org:8443";
      description = "The report service (`compliance promote --serve`): where the wave is fetched and the report uploaded.";
    };

    tokenFile = mkOption {
      type = types.nullOr types.path;
      default = null;
      example = "/run/secrets/compliance-token";
      description = "File holding the bearer token the report service asks of agents (null: none).";
    };

    profiles = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "nis2-essential" "anssi-intermediary" ];
      description = "Profiles to probe with (empty: every runtime control of the catalog).";
    };

    schedule = mkOption {
      type = types.str;
      default = "hourly";
      example = "*-*-* 06:00:00";
      description = "When to probe: a systemd OnCalendar expression (the run also happens at boot).";
    };

    randomizedDelay = mkOption {
      type = types.str;
      default = "5min";
      description = "RandomizedDelaySec of the timer: spreads the fleet's uploads.";
    };

    environmentFile = mkOption {
      type = types.nullOr types.path;
      default = null;
      example = "/run/secrets/compliance-agent.env";
      description = "EnvironmentFile of the unit, e.g. COSIGN_PASSWORD=… for an encrypted key.";
    };

    extraArgs = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "--timeout" "60" ];
      description = "Further arguments of `compliance agent`.";
    };
  };

  config = mkIf cfg.enable {
    systemd.services.compliance-agent = {
      description = "Probe this host and upload its signed compliance report";
      wants = [ "network-online.target" ];
      after = [ "network-online.target" "sshd.service" ];
      path = [ pkgs.openssh pkgs.iproute2 pkgs.nftables pkgs.util-linux pkgs.kmod pkgs.systemd ];
      serviceConfig = {
        Type = "oneshot";
        ExecStart = lib.escapeShellArgs command;
        LoadCredential = [ "key:${cfg.keyFile}" ]
          ++ lib.optionals (cfg.tokenFile != null) [ "token:${cfg.tokenFile}" ];
        EnvironmentFile = lib.optionals (cfg.environmentFile != null) [ cfg.environmentFile ];
        StateDirectory = "compliance-agent";
        WorkingDirectory = "/var/lib/compliance-agent";
        TimeoutStartSec = "30min";

        # Hardening: root for the reads, nothing else.
        User = "root";
        NoNewPrivileges = true;
        ProtectSystem = "strict";
        ReadWritePaths = [ "/var/lib/compliance-agent" ];
        ProtectHome = "read-only";
        ProtectControlGroups = true;
        ProtectKernelModules = true;
        ProtectKernelLogs = true;
        ProtectClock = true;
        ProtectHostname = true;
        RestrictSUIDSGID = true;
        RestrictRealtime = true;
        RestrictNamespaces = true;
        LockPersonality = true;
        SystemCallArchitectures = "native";
        SystemCallFilter = [ "@system-service" ];
        RestrictAddressFamilies = [ "AF_UNIX" "AF_INET" "AF_INET6" "AF_NETLINK" ];
        # Read every file (shadow, host keys), inspect processes, list the firewall and
        # audit rules; no capability that changes the system.
        CapabilityBoundingSet = [ "CAP_DAC_READ_SEARCH" "CAP_DAC_OVERRIDE" "CAP_SYS_PTRACE" "CAP_NET_ADMIN" "CAP_AUDIT_CONTROL" "CAP_AUDIT_READ" ];
        AmbientCapabilities = [ ];
        UMask = "0077";
      };
    };

    systemd.timers.compliance-agent = {
      description = "Probe this host on a schedule";
      wantedBy = [ "timers.target" ];
      timerConfig = {
        OnCalendar = cfg.schedule;
        OnBootSec = "5min";
        Persistent = true;
        RandomizedDelaySec = cfg.randomizedDelay;
      };
    };
  };
}
