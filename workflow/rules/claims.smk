rule claims:
    input:
        claims_inputs,
    output:
        csv=report("results/{scale}/claims.csv", caption="../report/claims.rst", category="Claims"),
        md="results/{scale}/claims.md",
    params:
        inputs=lambda w, input: "inputs=[" + ",".join(input) + "]",
        digest=CONFIG_DIGEST,
        outdir=lambda w: f"results/{w.scale}/meta/claims",
    log:
        "results/{scale}/logs/claims.log",
    conda:
        "../envs/rmtloss.yaml"
    threads: 1
    resources:
        runtime=10,
        mem_mb=1000,
    shell:
        "python -m rmtloss.claims scale={wildcards.scale} '{params.inputs}' "
        "out=results/{wildcards.scale}/claims "
        "hydra.run.dir={params.outdir} > {log} 2>&1"
