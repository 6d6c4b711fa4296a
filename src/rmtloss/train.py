"""``python -m rmtloss.train``: an alias of :mod:`rmtloss.stages.train`."""

from rmtloss.stages.train import main

if __name__ == "__main__":
    main()
