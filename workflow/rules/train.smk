rule train:
    input:
        shape_data_input,
    output:
        init="results/{scale}/runs/{run}/train/checkpoint_init.pt",
        final="results/{scale}/runs/{run}/train/checkpoint_final.pt",
        metrics="results/{scale}/runs/{run}/train/metrics.csv",
        config="results/{scale}/runs/{run}/train/config.yaml",
    params:
        overrides=train_args,
        digest=CONFIG_DIGEST,
        outdir=lambda w: f"results/{w.scale}/runs/{w.run}/train",
    log:
        "results/{scale}/logs/train/{run}.log",
    conda:
        "../envs/rmtloss.yaml"
    threads: 1
    resources:
        runtime=lambda w: 2880 if gpus(w) else 60,
        mem_mb=lambda w: 16000 if gpus(w) else 2000,
        gpu=gpus,
    shell:
        "OMP_NUM_THREADS={threads} python -m rmtloss.train {params.overrides} "
        "hydra.run.dir={params.outdir} > {log} 2>&1"
