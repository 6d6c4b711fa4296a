rule spectra:
    # result=eigenvalues: exact dense float64 Hessian/GGN and all its eigenvalues (small networks,
    # CPU); result=lanczos|slq|topk: Lanczos on the operator, CUDA when the job has a GPU, data-parallel
    # over `operator_gpus` GPUs (torchrun, one rank each) when the network asks for more than one. The
    # spectrum kind in config/config.yaml fixes which one (its `method`).
    input:
        checkpoint=checkpoint_of,
        config="results/{scale}/runs/{run}/train/config.yaml",
    output:
        "results/{scale}/runs/{run}/spectra/{spec}/{result}.npz",
    wildcard_constraints:
        result="eigenvalues|lanczos|slq|topk",
    params:
        overrides=spectra_args,
        digest=CONFIG_DIGEST,
        run_dir=lambda w: f"results/{w.scale}/runs/{w.run}/train",
        outdir=lambda w: f"results/{w.scale}/runs/{w.run}/spectra/{w.spec}",
        launch=lambda w: launch("rmtloss.spectra", spectra_ranks(w)),
    log:
        "results/{scale}/logs/spectra/{run}_{spec}_{result}.log",
    conda:
        "../envs/rmtloss.yaml"
    threads: 1
    resources:
        runtime=lambda w: 120 if w.result == "eigenvalues" else 720,
        mem_mb=lambda w: networks(w.scale)[w.run].get("spectra_mem_mb", 4000) if w.result == "eigenvalues" else 16000,
        gpu=lambda w: 0 if w.result == "eigenvalues" else gpus(w) * spectra_ranks(w),
    shell:
        "OMP_NUM_THREADS={threads} {params.launch} run_dir={params.run_dir} "
        "{params.overrides} hydra.run.dir={params.outdir} > {log} 2>&1"
