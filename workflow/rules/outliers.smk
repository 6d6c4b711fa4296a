rule outliers:
    # outliers and local laws (Baskerville et al., Universal characteristics): synthetic A + sX shifts
    # and damped inverses (no training), outliers per class of classifiers with C classes
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
        gpu=outlier_gpus,
    shell:
        "OMP_NUM_THREADS={threads} python -m rmtloss.outliers task={wildcards.task} {params.overrides} "
        "hydra.run.dir={params.outdir} > {log} 2>&1"


rule outlier_shift:
    # one trained network's batch-size shift of its Hessian outliers and its damped inverses (dense
    # Hessians up to network.exact_max_params, Lanczos beyond)
    input:
        outlier_inputs,
    output:
        stats="results/{scale}/analysis/outliers/outlier_shift_network/{run}/stats.json",
        samples="results/{scale}/analysis/outliers/outlier_shift_network/{run}/samples.npz",
    params:
        overrides=outliers_args,
        digest=CONFIG_DIGEST,
        outdir=lambda w: f"results/{w.scale}/analysis/outliers/outlier_shift_network/{w.run}",
        launch=lambda w: launch("rmtloss.outliers", outlier_ranks(w)),
    log:
        "results/{scale}/logs/outliers/outlier_shift_network_{run}.log",
    conda:
        "../envs/rmtloss.yaml"
    threads: 2
    resources:
        runtime=lambda w: 720 if outlier_gpus(w) else 60,
        mem_mb=outlier_mem_mb,
        gpu=lambda w: outlier_gpus(w) * outlier_ranks(w),
    shell:
        "OMP_NUM_THREADS={threads} {params.launch} task=outlier_shift_network {params.overrides} "
        "hydra.run.dir={params.outdir} > {log} 2>&1"
