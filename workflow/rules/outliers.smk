rule outliers:
    # outliers and local laws (Baskerville et al., Universal characteristics): synthetic A + sX shifts
    # and damped inverses (no training), a trained network's batch-size shift, outliers per class
    input:
        outlier_inputs,
    output:
        stats="results/{scale}/analysis/outliers/{task}/stats.json",
        samples="results/{scale}/analysis/outliers/{task}/samples.npz",
    wildcard_constraints:
        task="|".join(OUTLIER_TASKS),
    params:
        overrides=outliers_args,
        digest=CONFIG_DIGEST,
        outdir=lambda w: f"results/{w.scale}/analysis/outliers/{w.task}",
    log:
        "results/{scale}/logs/outliers/{task}.log",
    conda:
        "../envs/rmtloss.yaml"
    threads: 2
    resources:
        runtime=60,
        mem_mb=8000,
        gpu=lambda w: int(any(networks(w.scale)[r].get("gpu", False) for r in outlier_runs(w.scale, w.task))),
    shell:
        "OMP_NUM_THREADS={threads} python -m rmtloss.outliers task={wildcards.task} {params.overrides} "
        "hydra.run.dir={params.outdir} > {log} 2>&1"
