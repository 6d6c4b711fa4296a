"""Curvature of the loss: operators (Hessian, GGN), exact matrices, Lanczos and SLQ."""

from rmtloss.hessian._functional import flat_params, functional_loss, functional_model
from rmtloss.hessian.exact import exact_ggn, exact_hessian, exact_matrix, hvp
from rmtloss.hessian.lanczos import (
    EigenResult,
    LanczosResult,
    SLQResult,
    TraceResult,
    hutchinson_trace,
    lanczos,
    slq,
    top_eigenpairs,
)
from rmtloss.hessian.operators import (
    COMPILE_MIN_CALLS,
    CurvatureOperator,
    DenseOperator,
    GGNOperator,
    HessianOperator,
    compile_wanted,
)

__all__ = [
    "COMPILE_MIN_CALLS",
    "CurvatureOperator",
    "DenseOperator",
    "EigenResult",
    "GGNOperator",
    "HessianOperator",
    "LanczosResult",
    "SLQResult",
    "TraceResult",
    "compile_wanted",
    "exact_ggn",
    "exact_hessian",
    "exact_matrix",
    "flat_params",
    "functional_loss",
    "functional_model",
    "hutchinson_trace",
    "hvp",
    "lanczos",
    "slq",
    "top_eigenpairs",
]
