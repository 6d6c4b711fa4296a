"""Speed of the GAN complexity pipeline (Baskerville et al. 2022, arXiv 2101.02524): exponent grid, Θ map,
one sweep point.

``OMP_NUM_THREADS=1 python benchmarks/gan_speed.py`` prints wall-clock seconds on one core for the
authors' sweep grid (x: 2000 points on [-1000, 25], x_1: 100 points on [-15, 40], 4000 density nodes,
500 x 500 (u_D, u_G)), at p = q = 5, sigma_z = 1, kappa = 0.9, and checks the fast Θ map against the
authors' double loop on a sub-grid. The authors' own implementation takes about 0.12 s per exponent
evaluation (6.5 h per sweep point on one core with the authors' code); it is not run here.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from rmtloss.spinglass import gan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-x", type=int, default=2000)
    parser.add_argument("--num-x1", type=int, default=100)
    parser.add_argument("--num-u", type=int, default=500)
    parser.add_argument("--nodes", type=int, default=4000)
    args = parser.parse_args()
    model = gan.GanModel(5, 5, 1.0, 0.9)
    xs, x1s = np.linspace(-1000, 25, args.num_x), np.linspace(-15, 40, args.num_x1)
    t0 = time.perf_counter()
    grid = gan.exponent_grid(model, xs, x1s, nodes=args.nodes)
    t1 = time.perf_counter()
    u_d, u_g = gan.u_grid(model, xs, x1s, args.num_u)
    theta = gan.theta_map(xs, x1s, grid.values, model.p, model.c, u_d, u_g)
    t2 = time.perf_counter()
    th = gan.thresholds(theta, u_d, u_g)
    converged, _ = gan.converged_theta_g(model, grid)
    t3 = time.perf_counter()
    sub = (slice(None, None, 10), slice(None, None, 50))
    fast = gan.theta_map(xs[sub[1]], x1s[sub[0]], grid.values[sub], model.p, model.c, u_d[::25], u_g[::25])
    slow = gan.theta_map_bruteforce(xs[sub[1]], x1s[sub[0]], grid.values[sub], model.p, model.c,
                                    u_d[::25], u_g[::25])
    print(f"exponent grid {args.num_x} x {args.num_x1} ({args.nodes} nodes): {t1 - t0:.2f} s")
    print(f"Theta map {args.num_u} x {args.num_u} from the grid:           {t2 - t1:.3f} s")
    print(f"theta_G with x unbounded (bisection, the grid's densities): {t3 - t2:.2f} s")
    print(f"one sweep point (grid + map + thresholds):      {t3 - t0:.2f} s")
    print(f"theta_D = {th['theta_d']:.4f}, theta_G = {th['theta_g']:.4f} (grid), "
          f"{converged:.4f} (x unbounded)")
    same = np.array_equal(fast, slow, equal_nan=True)
    print(f"fast map equals the double loop on a {fast.shape} sub-grid: {same}")


if __name__ == "__main__":
    main()
