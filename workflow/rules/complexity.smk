rule complexity_abc:
    # spherical p-spin complexity: thresholds, curves, exact finite-N counts, Kac-Rice Monte Carlo
    output:
        stats="results/{scale}/analysis/spinglass/abc/stats.json",
        samples="results/{scale}/analysis/spinglass/abc/samples.npz",
    params:
        overrides=complexity_args,
        digest=CONFIG_DIGEST,
        outdir=lambda w: f"results/{w.scale}/analysis/spinglass/abc",
    log:
        "results/{scale}/logs/complexity/abc.log",
    conda:
        "../envs/rmtloss.yaml"
    threads: 1
    resources:
        runtime=30,
        mem_mb=4000,
    shell:
        "OMP_NUM_THREADS={threads} python -m rmtloss.complexity task=abc {params.overrides} "
        "hydra.run.dir={params.outdir} > {log} 2>&1"
