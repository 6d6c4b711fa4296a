"""rmtloss: the executable companion to the RMT studies of neural-network loss surfaces.

Stages are Hydra apps (``python -m rmtloss.<stage>``) that the Snakemake workflow calls; the
numerics live in :mod:`rmtloss.hessian` and :mod:`rmtloss.rmt`.
"""

__version__ = "0.1.0"
