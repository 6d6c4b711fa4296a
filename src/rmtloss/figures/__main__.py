"""``python -m rmtloss.figures``: an alias of :mod:`rmtloss.stages.figures`."""

from rmtloss.stages.figures import main

if __name__ == "__main__":
    main()
