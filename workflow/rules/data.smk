rule shape_data:
    # stand-ins for MNIST and CIFAR in torchvision's own file formats (a scale with shape_data, e.g.
    # paper_shape): uniform noise images, so that the paper scale's code paths run without the data
    output:
        f"{shape_data_dir('{scale}')}/shape_data.json",
    params:
        args=shape_data_args,
    log:
        "results/{scale}/logs/shape_data.log",
    conda:
        "../envs/rmtloss.yaml"
    threads: 1
    resources:
        runtime=10,
        mem_mb=1000,
    shell:
        "python -m rmtloss.nets.shape_data {params.args} > {log} 2>&1"
