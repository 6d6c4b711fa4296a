rule complexity:
    # spin glasses, no training: task abc (p-spin thresholds, curves, finite-N counts, Kac-Rice
    # Monte Carlo), activation (sharp factor of a rank-one deformation), or the GAN model's
    # gan_spectrum (density vs samples), gan_coulomb (log-potential vs Monte Carlo), gan_map
    # (Theta(u_D, u_G), index maps, refined-grid check)
    output:
        stats="results/{scale}/analysis/spinglass/{task}/stats.json",
        samples="results/{scale}/analysis/spinglass/{task}/samples.npz",
    wildcard_constraints:
        task="|".join(COMPLEXITY_TASKS),
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


rule gan_point:
    # one point of a GAN threshold sweep (sigma_z or kappa) at one (p, q): independent jobs that
    # spread over cores locally and over nodes on a cluster
    output:
        stats="results/{scale}/analysis/spinglass/gan_sweep/{sweep}/p{p}_q{q}/{i}/stats.json",
        samples="results/{scale}/analysis/spinglass/gan_sweep/{sweep}/p{p}_q{q}/{i}/samples.npz",
    wildcard_constraints:
        sweep="sigma_z|kappa",
        p="[0-9]+",
        q="[0-9]+",
        i="[0-9]+",
    params:
        overrides=gan_point_args,
        digest=CONFIG_DIGEST,
        outdir=lambda w: f"results/{w.scale}/analysis/spinglass/gan_sweep/{w.sweep}/p{w.p}_q{w.q}/{w.i}",
    log:
        "results/{scale}/logs/gan_sweep/{sweep}_p{p}_q{q}_{i}.log",
    conda:
        "../envs/rmtloss.yaml"
    threads: 1
    resources:
        runtime=10,
        mem_mb=2000,
    shell:
        "OMP_NUM_THREADS={threads} python -m rmtloss.complexity task=gan_point {params.overrides} "
        "hydra.run.dir={params.outdir} > {log} 2>&1"
