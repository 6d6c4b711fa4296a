# rmtloss: the RMT studies of neural-network loss surfaces as one workflow.
# Full reproduction: snakemake --cores all            (scale from config/config.yaml: quick)
# Another scale:     snakemake --cores all --config scale=smoke   (or mnist, paper, paper_shape)
# HTML report:      snakemake --report results/quick/report.html   (after a run)
# One figure:        snakemake --cores all results/quick/figures/spacing_ratios.pdf
import os
import sys

from snakemake.utils import min_version

min_version("9.0")
sys.path.insert(0, os.path.join(workflow.basedir, "src"))
from rmtloss.workflow import readable_yaml  # a YAML error named with its file, line and column


configfile: readable_yaml(os.path.join(workflow.basedir, "config/config.yaml"))


report: "workflow/report/workflow.rst"


# Figures and the ledger read small JSON files in seconds: on a cluster they run on the submitting
# machine instead of waiting in the queue.
localrules:
    figure,
    claims,
    summary,


# common.smk checks the config first (schema, run ids, every stage's overrides), then defines the lookups
include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/spectra.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/complexity.smk"
include: "workflow/rules/densities.smk"
include: "workflow/rules/outliers.smk"
include: "workflow/rules/optimisers.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/claims.smk"


rule all:
    input:
        final_targets(SCALE),
    default_target: True


for _fig in figure_names(SCALE):

    rule:
        name:
            f"fig_{_fig}"
        input:
            f"results/{SCALE}/figures/{_fig}.pdf",
