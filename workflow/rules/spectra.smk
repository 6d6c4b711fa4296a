rule spectra:
    # exact: dense float64 Hessian/GGN and all eigenvalues (small networks, CPU)
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


rule spectra_operator:
    # lanczos / slq / topk on the Hessian or GGN operator; CUDA when the job has a GPU
    input:
        checkpoint=checkpoint_of,
        config="results/{scale}/runs/{run}/train/config.yaml",
    output:
        "results/{scale}/runs/{run}/spectra/{spec}/{method}.npz",
    wildcard_constraints:
        method="lanczos|slq|topk",
    params:
        overrides=spectra_args,
        digest=CONFIG_DIGEST,
        run_dir=lambda w: f"results/{w.scale}/runs/{w.run}/train",
        outdir=lambda w: f"results/{w.scale}/runs/{w.run}/spectra/{w.spec}",
    log:
        "results/{scale}/logs/spectra/{run}_{spec}_{method}.log",
    conda:
        "../envs/rmtloss.yaml"
    threads: 2
    resources:
        runtime=720,
        mem_mb=16000,
        gpu=gpus,
    shell:
        "OMP_NUM_THREADS={threads} python -m rmtloss.spectra run_dir={params.run_dir} "
        "{params.overrides} hydra.run.dir={params.outdir} > {log} 2>&1"
