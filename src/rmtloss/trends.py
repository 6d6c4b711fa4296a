"""``python -m rmtloss.trends``: an alias of :mod:`rmtloss.stages.trends`."""

from rmtloss.stages.trends import main

if __name__ == "__main__":
    main()
