{
  description = "compliance-gate: NIS2, DORA, ISO/IEC 27001:2022 and ANSSI BP-028 controls as release gates over Nix closures, SBOMs and hosts, with signed evidence";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f (import nixpkgs {
        inherit system;
        overlays = [ self.overlays.default ];
      }));
    in
    {
      # pkgs.compliance-gate, built from this checkout with nixpkgs' Python packages.
      overlays.default = final: prev: {
        compliance-gate = final.callPackage ./nix/package.nix { src = self; };
      };

      packages = forAllSystems (pkgs: {
        compliance-gate = pkgs.compliance-gate;
        default = pkgs.compliance-gate;
      });

      apps = forAllSystems (pkgs: {
        default = {
          type = "app";
          program = "${pkgs.compliance-gate}/bin/compliance";
          meta.description = "The compliance command line";
        };
      });

      # services.compliance-agent: the host probes itself on a schedule and uploads its
      # signed report to the report service (promote --serve).
      nixosModules.default = { ... }: {
        imports = [ ./nix/nixos-module.nix ];
        nixpkgs.overlays = [ self.overlays.default ];
      };

      checks = forAllSystems (pkgs: {
        package = pkgs.compliance-gate;
        # The module evaluates inside a NixOS configuration and renders its unit.
        module = (nixpkgs.lib.nixosSystem {
          inherit (pkgs) system;
          modules = [
            self.nixosModules.default
            {
              boot.isContainer = true;
              system.stateVersion = "24.11";
              services.compliance-agent = {
                enable = true;
                serverUrl = "https://gate.example:8443";
                keyFile = "/etc/compliance/host.key";
                tokenFile = "/etc/compliance/token";
                profiles = [ "nis2-essential" ];
              };
            }
          ];
        }).config.systemd.units."compliance-agent.service".unit;
      });

      formatter = forAllSystems (pkgs: pkgs.nixpkgs-fmt);
    };
}
