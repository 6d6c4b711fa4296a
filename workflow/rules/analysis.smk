rule local_stats:
    input:
        "results/{scale}/runs/{run}/spectra/{spec}/eigenvalues.npz",
    output:
        stats="results/{scale}/analysis/local_stats/{run}/{spec}/stats.json",
        samples="results/{scale}/analysis/local_stats/{run}/{spec}/samples.npz",
    params:
        digest=CONFIG_DIGEST,
        outdir=lambda w: f"results/{w.scale}/analysis/local_stats/{w.run}/{w.spec}",
    log:
        "results/{scale}/logs/local_stats/{run}_{spec}.log",
    conda:
        "../envs/rmtloss.yaml"
    threads: 1
    resources:
        runtime=20,
        mem_mb=2000,
    shell:
        "OMP_NUM_THREADS={threads} python -m rmtloss.analysis task=local_stats spectrum={input} "
        "hydra.run.dir={params.outdir} > {log} 2>&1"
