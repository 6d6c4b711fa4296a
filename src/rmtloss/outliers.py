"""``python -m rmtloss.outliers``: an alias of :mod:`rmtloss.stages.outliers`."""

from rmtloss.stages.outliers import main

if __name__ == "__main__":
    main()
