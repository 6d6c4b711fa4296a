"""``python -m rmtloss.claims``: an alias of :mod:`rmtloss.stages.claims`."""

from rmtloss.stages.claims import main

if __name__ == "__main__":
    main()
