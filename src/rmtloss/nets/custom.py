"""Your own network and data through Hydra's ``_target_`` convention.

``model=custom model._target_=pkg.make_net [+model.width=64 ...]`` builds the network by calling
``pkg.make_net(width=64, ...)`` with every key of the ``model`` config but ``name`` and
``_target_``, adding ``input_shape`` (a sample's shape) and ``num_outputs`` (classes, or 1 for
regression) where its signature takes them. It must return a ``torch.nn.Module`` whose output for
a batch of ``b`` samples has shape ``(b, num_outputs)``.

``data=custom data._target_=pkg.make_data [+data.size=...]`` calls ``pkg.make_data(...)`` the same
way; it returns the train and test splits as

* a mapping with ``x_train``, ``y_train``, ``x_test``, ``y_test`` (tensors or arrays) and optionally
  ``num_classes`` and ``task`` (``classification`` or ``regression``), or
* a tuple ``(x_train, y_train, x_test, y_test)``, or
* a tuple ``(train, test)`` of ``torch.utils.data.Dataset`` s of ``(x, y)`` pairs.

Integer labels make a classification task with ``num_classes`` = the largest label + 1 (unless
given); float targets a regression with one output. Every stage takes them (the ``name`` of the
config labels the records; the module must be importable: the workflow puts the repository root
and your ``PYTHONPATH`` on the jobs' path). Errors name the target and what is wrong.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from omegaconf import DictConfig, OmegaConf

from rmtloss.errors import ConfigError, require

RESERVED = ("name", "_target_")


def is_custom(cfg: DictConfig) -> bool:
    """Whether a ``model`` or ``data`` config names a ``_target_``."""
    return "_target_" in cfg


def locate(path: str, setting: str) -> Callable[..., Any]:
    """The callable at dotted ``path`` (Hydra's ``get_object``), or a ConfigError naming ``setting``."""
    from hydra.utils import get_object

    require(isinstance(path, str) and bool(path), setting,
            "give the dotted path of a callable, e.g. pkg.make_net")
    try:
        obj = get_object(path)
    except Exception as exc:  # noqa: BLE001 - any import failure is the user's target
        raise ConfigError(setting, f"cannot import '{path}' ({exc}); make its module importable (the "
                          "repository root and PYTHONPATH are on the path)") from exc
    require(callable(obj), setting, f"'{path}' is a {type(obj).__name__}, not a callable")
    return obj


def call(cfg: DictConfig, setting: str, **context: Any) -> Any:
    """Call ``cfg._target_`` with the config's other keys and the ``context`` its signature takes."""
    fn = locate(cfg._target_, setting)
    kwargs = {k: v for k, v in OmegaConf.to_container(cfg, resolve=True).items() if k not in RESERVED}
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # builtins without a signature: pass only the config's keys
        params = {}
    takes_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    kwargs.update({k: v for k, v in context.items() if takes_all or k in params})
    try:
        return fn(**kwargs)
    except TypeError as exc:
        raise ConfigError(setting, f"calling '{cfg._target_}' with {sorted(kwargs)} failed: {exc}") from exc


def splits(out: Any, target: str) -> dict[str, Any]:
    """The four arrays (and optional ``num_classes``/``task``) of what a data target returned."""
    import torch

    setting = "data._target_"
    if isinstance(out, Mapping):
        missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in out]
        require(not missing, setting, f"'{target}' returned a mapping without {', '.join(missing)}")
        return dict(out)
    if isinstance(out, tuple) and len(out) == 4:
        return dict(zip(("x_train", "y_train", "x_test", "y_test"), out, strict=True))
    if isinstance(out, tuple) and len(out) == 2 and all(isinstance(d, torch.utils.data.Dataset) for d in out):
        parts = {}
        for split, ds in zip(("train", "test"), out, strict=True):
            require(len(ds) > 0, setting, f"'{target}' returned an empty {split} Dataset")
            xs, ys = zip(*(ds[i] for i in range(len(ds))), strict=True)
            parts[f"x_{split}"] = torch.stack([torch.as_tensor(x) for x in xs])
            parts[f"y_{split}"] = torch.as_tensor([torch.as_tensor(y).item() for y in ys])
        return parts
    raise ConfigError(setting, f"'{target}' returned {type(out).__name__}; return a mapping with x_train, "
                      "y_train, x_test, y_test, a tuple of those four, or a (train, test) pair of Datasets")
