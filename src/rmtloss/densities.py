"""``python -m rmtloss.densities``: an alias of :mod:`rmtloss.stages.densities`."""

from rmtloss.stages.densities import main

if __name__ == "__main__":
    main()
