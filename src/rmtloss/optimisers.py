"""``python -m rmtloss.optimisers``: an alias of :mod:`rmtloss.stages.optimisers`."""

from rmtloss.stages.optimisers import main

if __name__ == "__main__":
    main()
