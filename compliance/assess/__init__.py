"""Assessment: the engine evaluates the selected checks, the assessment collects results,
attestations are judged, and the gate decision applies the policy."""
