"""``python -m rmtloss.complexity``: an alias of :mod:`rmtloss.stages.complexity`."""

from rmtloss.stages.complexity import main

if __name__ == "__main__":
    main()
