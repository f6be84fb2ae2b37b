"""One promotion gate as the command runs it: the wave file and the policy, read and
checked against each other once; then a decision over the reports folder whenever asked
(once for the command, at every request for ``--serve``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from compliance.errors import InputError
from compliance.promote.collect import list_reports
from compliance.promote.durations import describe
from compliance.promote.promotion_policy import PromotionPolicy, read_promotion_policy
from compliance.promote.wave import LoadedWave, check_nonce, read_wave
from compliance.promote.wave_decision import WaveDecision
from compliance.promote.wave_judge import decide_wave
from compliance.util.gcpause import cyclic_gc_paused


@dataclass(frozen=True)
class PromotionGate:
    wave: LoadedWave
    policy: PromotionPolicy
    reports: Path

    @classmethod
    def load(cls, wave_path: str | Path, reports: str | Path, nonce: str, policy_path: str | Path | None) -> PromotionGate:
        """Everything that is an input error (exit 2), found before any report is read."""
        policy = read_promotion_policy(policy_path) if policy_path is not None else PromotionPolicy()
        wave = read_wave(wave_path)
        check_nonce(wave, nonce, policy.min_nonce_length)
        if policy.min_soak and wave.wave.activated_at is None:
            raise InputError(wave.source, f"activated_at: the policy's min_soak of {describe(policy.min_soak)} "
                                          "needs to know when the wave was activated")
        folder = Path(reports)
        if not folder.is_dir():
            raise InputError(folder, "no such folder of reports" if not folder.exists() else "not a folder")
        return cls(wave, policy, folder)

    def decide(self, now: datetime, processes: int | None = None) -> WaveDecision:
        """The decision over the folder as it is now (``processes``: see :mod:`.parallel`).
        Nothing of it creates reference cycles: the cyclic collector waits meanwhile."""
        with cyclic_gc_paused():
            return decide_wave(self.wave, self.policy, list_reports(self.reports), now, processes)
