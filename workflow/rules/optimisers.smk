rule optimisers:
    # optimiser comparisons (Granziol & Baskerville, damping): Adam's epsilon as shrinkage against SGD,
    # the RMT damping learner, the noisy quadratic model, training budgets; one job per (task, setting)
    input:
        shape_data_input,
    output:
        stats="results/{scale}/analysis/optimisers/{task}/{setting}/stats.json",
        samples="results/{scale}/analysis/optimisers/{task}/{setting}/samples.npz",
    wildcard_constraints:
        task="|".join(OPTIMISER_TASKS),
        setting="[a-z][a-z0-9_]*",
    params:
        overrides=optimisers_args,
        digest=CONFIG_DIGEST,
        outdir=lambda w: f"results/{w.scale}/analysis/optimisers/{w.task}/{w.setting}",
    log:
        "results/{scale}/logs/optimisers/{task}_{setting}.log",
    conda:
        "../envs/rmtloss.yaml"
    threads: 1
    resources:
        runtime=lambda w: 10080 if optimiser_gpus(w) else 60,
        mem_mb=lambda w: 32000 if optimiser_gpus(w) else 4000,
        gpu=optimiser_gpus,
    shell:
        "OMP_NUM_THREADS={threads} python -m rmtloss.optimisers task={wildcards.task} "
        "setting={wildcards.setting} {params.overrides} hydra.run.dir={params.outdir} > {log} 2>&1"
