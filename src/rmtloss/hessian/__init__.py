"""Curvature of the loss: exact Hessians and GGN matrices (small networks)."""

from rmtloss.hessian._functional import flat_params, functional_loss, functional_model
from rmtloss.hessian.exact import exact_ggn, exact_hessian, hvp

__all__ = ["exact_ggn", "exact_hessian", "flat_params", "functional_loss", "functional_model", "hvp"]
