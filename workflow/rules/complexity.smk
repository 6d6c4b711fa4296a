rule complexity:
    # spin glasses, no training: task abc (p-spin thresholds, curves, finite-N counts, Kac-Rice
    # Monte Carlo) or activation (sharp factor of a rank-one deformation)
    output:
        stats="results/{scale}/analysis/spinglass/{task}/stats.json",
        samples="results/{scale}/analysis/spinglass/{task}/samples.npz",
    wildcard_constraints:
        task="abc|activation",
    params:
        overrides=complexity_args,
        digest=CONFIG_DIGEST,
        outdir=lambda w: f"results/{w.scale}/analysis/spinglass/{w.task}",
    log:
        "results/{scale}/logs/complexity/{task}.log",
    conda:
        "../envs/rmtloss.yaml"
    threads: 1
    resources:
        runtime=30,
        mem_mb=4000,
    shell:
        "OMP_NUM_THREADS={threads} python -m rmtloss.complexity task={wildcards.task} {params.overrides} "
        "hydra.run.dir={params.outdir} > {log} 2>&1"
