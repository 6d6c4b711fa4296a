rule global_density:
    # one network's spectrum (exact or Lanczos quadrature) against semicircle, Marchenko-Pastur,
    # product and percolated laws (Granziol, Beyond Random Matrix Theory)
    input:
        spectrum_of,
    output:
        stats="results/{scale}/analysis/global_density/{run}/{spec}/stats.json",
        samples="results/{scale}/analysis/global_density/{run}/{spec}/samples.npz",
    params:
        overrides=lambda w: densities_args(w.scale, "global_density"),
        digest=CONFIG_DIGEST,
        outdir=lambda w: f"results/{w.scale}/analysis/global_density/{w.run}/{w.spec}",
    log:
        "results/{scale}/logs/global_density/{run}_{spec}.log",
    conda:
        "../envs/rmtloss.yaml"
    threads: 1
    resources:
        runtime=20,
        mem_mb=4000,
    shell:
        "OMP_NUM_THREADS={threads} python -m rmtloss.densities task=global_density spectrum={input} {params.overrides} "
        "hydra.run.dir={params.outdir} > {log} 2>&1"


rule densities:
    # random-matrix ensembles, no training: product and percolated zero atoms, sampled densities,
    # the GP Hessian model, the index of critical points against energy
    output:
        stats="results/{scale}/analysis/densities/{task}/stats.json",
        samples="results/{scale}/analysis/densities/{task}/samples.npz",
    wildcard_constraints:
        task="|".join(DENSITY_TASKS),
    params:
        overrides=lambda w: densities_args(w.scale, w.task),
        digest=CONFIG_DIGEST,
        outdir=lambda w: f"results/{w.scale}/analysis/densities/{w.task}",
    log:
        "results/{scale}/logs/densities/{task}.log",
    conda:
        "../envs/rmtloss.yaml"
    threads: 1
    resources:
        runtime=30,
        mem_mb=4000,
    shell:
        "OMP_NUM_THREADS={threads} python -m rmtloss.densities task={wildcards.task} {params.overrides} "
        "hydra.run.dir={params.outdir} > {log} 2>&1"
