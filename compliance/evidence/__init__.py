"""Evidence packets: build, sign, verify, export."""
