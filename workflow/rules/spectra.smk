rule spectra:
    input:
        checkpoint=checkpoint_of,
        config="results/{scale}/runs/{run}/train/config.yaml",
    output:
        "results/{scale}/runs/{run}/spectra/{spec}/eigenvalues.npz",
    params:
        overrides=spectra_args,
        digest=CONFIG_DIGEST,
        run_dir=lambda w: f"results/{w.scale}/runs/{w.run}/train",
        outdir=lambda w: f"results/{w.scale}/runs/{w.run}/spectra/{w.spec}",
    log:
        "results/{scale}/logs/spectra/{run}_{spec}.log",
    conda:
        "../envs/rmtloss.yaml"
    threads: 1
    resources:
        runtime=120,
        mem_mb=4000,
    shell:
        "OMP_NUM_THREADS={threads} python -m rmtloss.spectra run_dir={params.run_dir} "
        "{params.overrides} hydra.run.dir={params.outdir} > {log} 2>&1"
