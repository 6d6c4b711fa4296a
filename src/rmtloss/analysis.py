"""``python -m rmtloss.analysis``: an alias of :mod:`rmtloss.stages.analysis`."""

from rmtloss.stages.analysis import main

if __name__ == "__main__":
    main()
