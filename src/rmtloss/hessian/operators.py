r"""Curvature operators over a data set: the Hessian and the generalised Gauss-Newton matrix.

The design follows curvlinops' linear operators (Dangel et al.): an object that multiplies vectors
(``matvec``) and matrices (``matmat``) by the curvature matrix of the **mean** loss over a data set,

.. math:: L(\theta) = \sum_k \frac{n_k}{N} L_{B_k}(\theta),

so every batch is weighted by its share of the samples and an uneven last batch does not change the
operator. ``matmat`` pushes all K columns through one pass over the data (``torch.func.vmap``), so K
probes cost about one data pass. Hessian-vector products are forward-over-reverse
(``jvp`` of ``grad``); GGN products are :math:`J^\top (H_f (J v))` with a Jacobian-vector product,
the Hessian of the loss in the outputs and a vector-Jacobian product.

BatchNorm policy (explicit, unlike PyHessian's hidden ``model.eval()``): ``bn_mode="eval"`` (the
default) uses the running statistics; ``bn_mode="train"`` uses batch statistics, refuses a
``DataLoader`` that shuffles, and checks that two products with the same vector agree.

Compilation (``compile=True``): each batch's product (and gradient) runs through
``torch.compile``; a batch of another shape (an uneven last batch) gets its own graph. Compiled
second-order code can be silently wrong (PyTorch issue #190855), so the first call of every graph
(each kind, product or gradient, and each input shape) is also computed eagerly and must agree to a
relative 1e-10 (float64) or 1e-5 (float32), else :class:`~rmtloss.errors.ConfigError` names the
``compile`` setting. Where compilation fails
(no C++ compiler, an unsupported operation) the operator warns once and runs eagerly. The graph is
keyed by the code and the input shapes, not by the operator object: operators over batches of one
shape (the damping learner's statistics batches, one operator each) share it.

The spectra stage's ``compile`` setting is ``true``, ``false`` or ``auto`` (:func:`compile_wanted`):
compile a single-vector job of at least :data:`COMPILE_MIN_CALLS` per-batch products per batch shape,
where compiling has paid for itself in ``benchmarks/hessian_engine.py --compile``.
"""

from __future__ import annotations

import contextlib
import copy
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence

import torch
import torch.distributed as dist
from torch import nn
from torch.func import functional_call, grad, jvp, vjp, vmap

from rmtloss.errors import ConfigError
from rmtloss.hessian.distributed import all_sum

Batch = tuple[torch.Tensor, torch.Tensor]
LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


#: Per-batch products per batch shape (each shape is a graph to compile) from which ``compile=auto``
#: compiles a single-vector job: above the break-even counts measured by ``benchmarks/hessian_engine.py
#: --compile`` on 2 CPU cores, compiling from scratch (the compilation time over the time saved per
#: product; batches of 128, float32): MNIST MLP 4,271 (forward-over-reverse) and 3,475 (reverse) on
#: 1,024 samples, 15,943 and 14,034 on 1,000 (an uneven last batch: two graphs, about 8,000 per
#: graph); LeNet 4,629 and 1,677 on 1,024 (README, "Benchmarks"). Not measured on a GPU.
COMPILE_MIN_CALLS = 8000


def compile_wanted(setting: str | bool, batch_calls: int, columns: int = 1, shapes: int = 1,
                   min_calls: int = COMPILE_MIN_CALLS) -> bool:
    """Resolve a stage's ``compile`` setting for a job of ``batch_calls`` per-batch products.

    ``auto`` compiles single-vector products (Lanczos, one-probe SLQ) from ``min_calls`` calls per
    batch shape. It leaves several columns at once (``matmat``, an SLQ with several probes) eager:
    compiled, 8 columns per call were slower than eager on LeNet (a compiled 30-step SLQ took 31.8 s
    against 26.8 s eager) though faster on the MNIST MLP (0.79 s against 2.25 s).

    Args:
        setting: ``true`` / ``false`` (as a bool or the strings ``True``/``False``, OmegaConf's
            spelling of a bool in a string field) or ``auto``.
        batch_calls: the planned number of per-batch product calls (Lanczos steps times batches
            per product times the number of operators sharing the graph).
        columns: vectors per product call (the SLQ probes).
        shapes: distinct batch shapes, each compiled on its own (2 with an uneven last batch).
        min_calls: ``auto`` compiles from this many calls per batch shape.

    Raises:
        ConfigError: ``compile`` is none of these.
    """
    value = str(setting).lower()
    if value not in ("true", "false", "auto"):
        raise ConfigError("compile", f"must be true, false or auto (got {setting!r})")
    return value == "true" or (value == "auto" and columns == 1 and batch_calls >= min_calls * shapes)


def _has_batchnorm(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def _shuffles(data: Iterable[Batch]) -> bool:
    sampler = getattr(data, "sampler", None)
    return isinstance(sampler, torch.utils.data.RandomSampler)


class CurvatureOperator:
    """Base class: a symmetric P x P curvature matrix of the mean loss, applied by products.

    Args:
        model: the network. Its train/eval flags are restored after each product; with
            train-mode BatchNorm a patched copy is used.
        loss_fn: ``loss_fn(outputs, targets)``, the batch **mean**.
        data: a re-iterable of ``(x, y)`` batches (a list or a non-shuffling ``DataLoader``).
        params: names (as in ``model.named_parameters()``) of the parameters the matrix is taken
            with respect to, in that order; ``None`` takes every trainable parameter.
        bn_mode: ``"eval"`` or ``"train"`` (see the module docstring).
        check_deterministic: multiply a random vector twice and raise if the products differ
            (curvlinops' check; catches shuffled data and stochastic layers).
        chunk_size: columns per vectorised call in :meth:`matmat` (memory bound); ``None``: all.
        process_group: a ``torch.distributed`` group whose ranks each pass their shard of the
            data as ``data``; products and gradients are summed over the ranks with one
            ``all_reduce`` each (:mod:`rmtloss.hessian.distributed`). ``None``: one process.
        compile: run each batch's product and gradient through ``torch.compile`` (see the module
            docstring: cross-checked against eager once, eager where compilation fails).
        compile_backend: the ``torch.compile`` backend (``inductor``; ``aot_eager`` traces
            without generating code, for tests).

    Attributes:
        size: P, the number of parameters in the matrix. dtype, device: of the parameters.
        num_data: N, the number of samples (over all ranks). num_matvecs: products computed so far
            (columns).
    """

    def __init__(self, model: nn.Module, loss_fn: LossFn, data: Iterable[Batch], *,
                 params: Sequence[str] | None = None, bn_mode: str = "eval",
                 check_deterministic: bool = True, chunk_size: int | None = None,
                 process_group: dist.ProcessGroup | None = None, compile: bool = False,  # noqa: A002
                 compile_backend: str = "inductor") -> None:
        if bn_mode not in ("eval", "train"):
            raise ConfigError("bn_mode", f"unknown BatchNorm mode '{bn_mode}'; use eval or train")
        if bn_mode == "train" and _shuffles(data):
            raise ConfigError("bn_mode", "train-mode BatchNorm needs the same batches for every "
                              "product: pass a DataLoader with shuffle=False")
        self.model = self._prepare(model, bn_mode)
        self.loss_fn, self.data, self.chunk_size, self.bn_mode = loss_fn, data, chunk_size, bn_mode
        named = dict(self.model.named_parameters())
        names = list(params) if params is not None else [n for n, p in named.items()
                                                        if p.requires_grad]
        unknown = [n for n in names if n not in named]
        if unknown:
            raise ConfigError("params", f"unknown parameter names {unknown}; choose from "
                              f"{list(named)}")
        self.names = names
        self.theta = {n: named[n].detach() for n in names}
        self.fixed = {n: p.detach() for n, p in named.items() if n not in self.theta}
        self.buffers = dict(self.model.named_buffers())
        self.shapes = [self.theta[n].shape for n in names]
        self.sizes = [self.theta[n].numel() for n in names]
        first = next(iter(self.theta.values()))
        self.size, self.dtype, self.device = sum(self.sizes), first.dtype, first.device
        self.group = process_group
        local = sum(len(x) for x, _ in data)
        self.num_data = local if process_group is None else int(
            all_sum(torch.tensor([local], dtype=torch.float64, device=self.device), process_group).item())
        if self.num_data == 0:
            raise ConfigError("data", "the data set is empty")
        self.num_matvecs = 0
        # kind -> compiled function; _checked: the (kind, input shapes) whose graph agreed with eager
        kinds = (("product", self._batch_columns), ("gradient", self._batch_gradient)) if compile else ()
        self._compiled = {k: torch.compile(fn, backend=compile_backend, dynamic=False) for k, fn in kinds}
        self._checked: set[tuple] = set()
        if check_deterministic or bn_mode == "train":
            self.check_deterministic()

    @staticmethod
    def _prepare(model: nn.Module, bn_mode: str) -> nn.Module:
        if bn_mode == "train" and _has_batchnorm(model):
            model = copy.deepcopy(model)  # the patch below changes modules in place
            torch.func.replace_all_batch_norm_modules_(model)  # batch statistics, no updates
        return model

    @contextlib.contextmanager
    def _mode(self) -> Iterator[None]:
        """Eval mode (or train mode for train-mode BatchNorm) during products, then restore."""
        flags = [(m, m.training) for m in self.model.modules()]
        self.model.train(self.bn_mode == "train")
        try:
            yield
        finally:
            for m, flag in flags:
                m.training = flag

    # -- products ----------------------------------------------------------------------------
    def outputs(self, theta: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """Network outputs with the parameters ``theta`` (others fixed)."""
        return functional_call(self.model, ({**self.fixed, **theta}, self.buffers), (x,))

    def _loss_gradient(self, x: torch.Tensor, y: torch.Tensor) -> Callable:
        """``theta -> gradient of the batch loss`` (a ``torch.func.grad`` function)."""
        return grad(lambda t: self.loss_fn(self.outputs(t, x), y))

    def _split(self, v: torch.Tensor) -> dict[str, torch.Tensor]:
        return {n: c.view(s) for n, c, s in zip(self.names, torch.split(v, self.sizes),
                                                self.shapes, strict=True)}

    def _flat(self, d: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.cat([d[n].reshape(-1) for n in self.names])

    def _batch_product(self, v: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor
                       ) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    @torch.no_grad()
    def matmat(self, mat: torch.Tensor) -> torch.Tensor:
        """Multiply a ``(P, K)`` matrix; one pass over the data serves all K columns.

        The input may have any float dtype and device; the product is computed in the operator's
        dtype and returned in the input's dtype and device.
        """
        if mat.ndim != 2 or mat.shape[0] != self.size:
            raise ValueError(f"expected a ({self.size}, K) matrix, got {tuple(mat.shape)}")
        cols = mat.to(self.device, self.dtype).T.contiguous()  # (K, P)
        out = torch.zeros_like(cols)
        with self._mode():
            self._accumulate(cols, out)
        all_sum(out, self.group)
        self.num_matvecs += mat.shape[1]
        return out.T.to(mat.device, mat.dtype)

    def _batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, float]]:
        """Each batch on the operator's device (float inputs in its dtype) and its data share."""
        for x, y in self.data:
            x, y = x.to(self.device), y.to(self.device)
            if x.is_floating_point():
                x = x.to(self.dtype)
            yield x, y, len(x) / self.num_data

    def _columns(self, x: torch.Tensor, y: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        """The product of one batch's matrix with a flat vector (a function of the vector)."""
        return lambda v: self._flat(self._batch_product(self._split(v), x, y))

    def _batch_columns(self, cols: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """One batch's matrix times the ``(K, P)`` rows ``cols``."""
        column = self._columns(x, y)
        if len(cols) == 1:  # one vector: skip vmap's per-call overhead
            return column(cols[0])[None]
        return vmap(column, chunk_size=self.chunk_size)(cols)

    def _batch_gradient(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self._flat(self._loss_gradient(x, y)(self.theta))

    def _call(self, kind: str, eager: Callable[..., torch.Tensor], *args: torch.Tensor) -> torch.Tensor:
        """``eager(*args)``, or its compiled version (``compile=True``), checked against eager on
        the first call with each input shape (each graph)."""
        compiled = self._compiled.get(kind)
        if compiled is None:
            return eager(*args)
        try:
            out = compiled(*args)
        except Exception as exc:  # noqa: BLE001 - any failure to compile: run eagerly from now on
            first = str(exc).splitlines()[0] if str(exc) else ""
            warnings.warn(f"compile=true: torch.compile failed for the {kind} ({type(exc).__name__}: "
                          f"{first}); running it eagerly", stacklevel=3)
            self._compiled.pop(kind)
            return eager(*args)
        key = (kind, *(tuple(a.shape) for a in args))
        if key not in self._checked:
            self._checked.add(key)
            ref = eager(*args)
            tol = 1e-10 if self.dtype == torch.float64 else 1e-5
            err = float((out - ref).abs().max() / ref.abs().max().clamp_min(torch.finfo(ref.dtype).tiny))
            if not err <= tol:
                raise ConfigError("compile", f"the compiled {kind} differs from the eager one by a relative "
                                  f"{err:.3g} (tolerance {tol:g} in {self.dtype}): use compile=false")
        return out

    def _accumulate(self, cols: torch.Tensor, out: torch.Tensor) -> None:
        for x, y, share in self._batches():
            out += share * self._call("product", self._batch_columns, cols, x, y)

    def matvec(self, v: torch.Tensor) -> torch.Tensor:
        """Multiply one vector of length P."""
        return self.matmat(v.reshape(-1, 1))[:, 0]

    @torch.no_grad()
    def gradient(self) -> torch.Tensor:
        """Gradient of the mean loss over the data (``torch.func.grad``, share-weighted batches)."""
        out = torch.zeros(self.size, dtype=self.dtype, device=self.device)
        with self._mode():
            for x, y, share in self._batches():
                out += share * self._call("gradient", self._batch_gradient, x, y)
        return all_sum(out, self.group)

    def __matmul__(self, other: torch.Tensor) -> torch.Tensor:
        return self.matvec(other) if other.ndim == 1 else self.matmat(other)

    def to_dense(self) -> torch.Tensor:
        """The dense P x P matrix (P products; small models only), symmetrised."""
        h = self.matmat(torch.eye(self.size, dtype=self.dtype, device=self.device))
        return (h + h.T) / 2

    def check_deterministic(self, rtol: float = 1e-5, atol: float = 1e-8) -> None:
        """Raise if two products with the same random vector differ (shuffled data, dropout...)."""
        gen = torch.Generator().manual_seed(0)
        v = torch.randn(self.size, generator=gen, dtype=torch.float64)
        first, second = self.matvec(v), self.matvec(v)
        self.num_matvecs -= 2
        if not torch.allclose(first, second, rtol=rtol, atol=atol):
            raise ConfigError("data", "two products with the same vector differ: the data order or "
                              "the model is random (shuffled loader, dropout, train-mode "
                              "BatchNorm on shuffled batches); fix the order or use bn_mode=eval")


class HessianOperator(CurvatureOperator):
    r"""The Hessian of the mean loss.

    Args:
        mode: ``"forward"`` (the default): forward-over-reverse products, ``jvp`` of ``grad``;
            ``"reverse"``: reverse-over-reverse, ``vjp`` of ``grad`` (:math:`Hv = (v^\top H)^\top`
            as H is symmetric), with the gradient's graph built once per batch and shared by all
            columns of :meth:`matmat`. Both are exact; they differ in cost. Counted by
            ``torch.utils.flop_counter`` (``benchmarks/hessian_engine.py``), a product costs 3.0
            gradients in both modes on VGG-16, while on the MNIST MLP (784 -> 10 -> 100 -> 10)
            ``reverse`` costs 2.28 (it skips work a forward tangent of the wide input layer does).
        *args, **kwargs: as :class:`CurvatureOperator`.
    """

    def __init__(self, *args, mode: str = "forward", **kwargs) -> None:  # noqa: ANN002, ANN003
        if mode not in ("forward", "reverse"):
            raise ConfigError("mode", f"unknown Hessian-vector product mode '{mode}'; use forward or reverse")
        self.mode = mode
        super().__init__(*args, **kwargs)

    def _batch_product(self, v, x, y):  # noqa: ANN001, ANN202
        return jvp(self._loss_gradient(x, y), (self.theta,), (v,))[1]

    def _columns(self, x: torch.Tensor, y: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        if self.mode == "forward":
            return super()._columns(x, y)
        _, pullback = vjp(self._loss_gradient(x, y), self.theta)
        return lambda v: self._flat(pullback(self._split(v))[0])


class GGNOperator(CurvatureOperator):
    r"""The generalised Gauss-Newton matrix :math:`\frac1N\sum_i J_i^\top \nabla_f^2\ell_i J_i`."""

    def _batch_product(self, v, x, y):  # noqa: ANN001, ANN202
        out, jv = jvp(lambda t: self.outputs(t, x), (self.theta,), (v,))
        hjv = jvp(grad(lambda o: self.loss_fn(o, y)), (out,), (jv,))[1]
        _, pullback = vjp(lambda t: self.outputs(t, x), self.theta)
        return pullback(hjv)[0]


class DenseOperator:
    """A dense symmetric matrix behind the operator interface (tests and synthetic spectra)."""

    def __init__(self, matrix: torch.Tensor) -> None:
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError("expected a square matrix")
        self.matrix = matrix
        self.size, self.dtype, self.device = matrix.shape[0], matrix.dtype, matrix.device
        self.num_matvecs = 0

    def matmat(self, mat: torch.Tensor) -> torch.Tensor:
        """Multiply a ``(P, K)`` matrix."""
        self.num_matvecs += mat.shape[1]
        return (self.matrix @ mat.to(self.device, self.dtype)).to(mat.device, mat.dtype)

    def matvec(self, v: torch.Tensor) -> torch.Tensor:
        """Multiply a vector."""
        return self.matmat(v.reshape(-1, 1))[:, 0]
