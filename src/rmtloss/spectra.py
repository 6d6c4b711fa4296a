"""``python -m rmtloss.spectra``: an alias of :mod:`rmtloss.stages.spectra`."""

from rmtloss.stages.spectra import main

if __name__ == "__main__":
    main()
