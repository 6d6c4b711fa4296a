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
