"""``python -m rmtloss``: the ``rmtloss`` console command (:mod:`rmtloss.cli`)."""

import sys

from rmtloss.cli import main

sys.exit(main())
