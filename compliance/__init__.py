"""compliance-gate: typed regulatory controls as release gates over Nix closures, SBOMs and hosts."""

__version__ = "0.1.0"

TOOL_NAME = "compliance-gate"
