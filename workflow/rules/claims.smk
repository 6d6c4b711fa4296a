rule claims:
    input:
        claims_inputs,
    output:
        csv=report("results/{scale}/claims.csv", caption="../report/claims.rst", category="Claims"),
        md="results/{scale}/claims.md",
        # one table per paper, in the report beside that paper's figures
        **{
            f"paper_{key}": report(
                f"results/{{scale}}/claims_by_paper/{key}.csv",
                caption="../report/paper_claims.rst",
                category="Papers",
                subcategory=paper.short,
            )
            for key, paper in PAPERS.items()
        },
    params:
        inputs=lambda w, input: "inputs=[" + ",".join(input) + "]",
        about=lambda w: shell_args([hydra_string("about", config["scales"][w.scale].get("about", ""))]),
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
        "out=results/{wildcards.scale}/claims {params.about} "
        "hydra.run.dir={params.outdir} > {log} 2>&1"


# each claim's sweeps read as trends (a scale with `trends`: regimes; rmtloss.stages.trends)
if "trends" in config["scales"][SCALE]:

    rule trends:
        input:
            claim_records(SCALE),
        output:
            md=f"results/{SCALE}/trends.md",
            json=f"results/{SCALE}/trends.json",
            png=[report(f, caption="../report/trends.rst", category="Trends") for f in trend_figures(SCALE, "png")],
            pdf=trend_figures(SCALE, "pdf"),
        params:
            inputs=lambda w, input: "inputs=[" + ",".join(input) + "]",
            sweeps=shell_args([hydra_string("sweeps", json.dumps(config["scales"][SCALE]["trends"]))]),
            digest=CONFIG_DIGEST,
            outdir=f"results/{SCALE}/meta/trends",
        log:
            f"results/{SCALE}/logs/trends.log",
        conda:
            "../envs/rmtloss.yaml"
        threads: 1
        resources:
            runtime=10,
            mem_mb=2000,
        shell:
            f"python -m rmtloss.trends scale={SCALE} '{{params.inputs}}' {{params.sweeps}} "
            f"out=results/{SCALE} hydra.run.dir={{params.outdir}} > {{log}} 2>&1"


# every scale's ledger side by side (rmtloss.summary); re-run whenever this scale's ledger changes
rule summary:
    input:
        f"results/{SCALE}/claims.csv",
        *([f"results/{SCALE}/trends.json"] if "trends" in config["scales"][SCALE] else []),
    output:
        md="results/summary.md",
        png=report("results/summary.png", caption="../report/summary.rst", category="Claims"),
        pdf="results/summary.pdf",
    log:
        "results/logs/summary.log",
    conda:
        "../envs/rmtloss.yaml"
    threads: 1
    resources:
        runtime=10,
        mem_mb=1000,
    shell:
        "python -m rmtloss summary --results results > {log} 2>&1"
