rule figure:
    input:
        figure_inputs,
    output:
        pdf="results/{scale}/figures/{fig}.pdf",
        png=report(
            "results/{scale}/figures/{fig}.png",
            caption="../report/figure.rst",
            category="Papers",
            subcategory=figure_group,
        ),
    params:
        caption=figure_caption,
        inputs=lambda w, input: "inputs=[" + ",".join(input) + "]",
        digest=CONFIG_DIGEST,
        outdir=lambda w: f"results/{w.scale}/figures/meta/{w.fig}",
    log:
        "results/{scale}/logs/figures/{fig}.log",
    conda:
        "../envs/rmtloss.yaml"
    threads: 1
    resources:
        runtime=10,
        mem_mb=2000,
    shell:
        "python -m rmtloss.figures figure={wildcards.fig} '{params.inputs}' "
        "out=results/{wildcards.scale}/figures/{wildcards.fig} "
        "hydra.run.dir={params.outdir} > {log} 2>&1"
