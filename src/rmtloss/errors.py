"""User-facing errors: each names the setting at fault and what to do about it."""

from __future__ import annotations


class ConfigError(ValueError):
    """A setting has a value the stage cannot work with.

    Args:
        setting: the dotted Hydra key at fault, e.g. ``optimizer.lr``.
        message: what is wrong and what to do.
    """

    def __init__(self, setting: str, message: str) -> None:
        self.setting = setting
        super().__init__(f"invalid setting `{setting}`: {message}")


class InputError(RuntimeError):
    """An input file is missing, unreadable or too small to analyse."""


def require(condition: bool, setting: str, message: str) -> None:
    """Raise :class:`ConfigError` for ``setting`` unless ``condition`` holds."""
    if not condition:
        raise ConfigError(setting, message)


class Incomplete(InputError):
    """Some steps of a multi-step stage failed after others finished: their outputs are kept.

    The stage records its config and provenance beside the partial outputs and exits 2 with this
    message (``rmtloss.stages.diagnose`` writes its page first, with the failures on it).
    """


class UpstreamDiverged(InputError):
    """An input comes from a training run whose loss became NaN or infinite.

    Stages that can record this (``spectra``, ``analysis``, ``densities``, ``outliers``) write
    their outputs as a diverged record instead of failing, so the figures and the claims ledger
    can say which run diverged.

    Attributes:
        record: ``{"run", "epoch", "loss", "source"}``: the run, the epoch (1-based) and loss
            of the divergence, and the file that first said so.
    """

    def __init__(self, record: dict) -> None:
        self.record = dict(record)
        super().__init__(f"{record['run']} diverged in epoch {record['epoch']} (loss "
                         f"{record['loss']}; {record['source']}); lower its optimizer.lr")
