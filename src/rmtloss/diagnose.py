"""``python -m rmtloss.diagnose``: an alias of :mod:`rmtloss.stages.diagnose`."""

from rmtloss.stages.diagnose import main

if __name__ == "__main__":
    main()
