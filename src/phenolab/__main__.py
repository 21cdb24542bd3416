import sys

from phenolab.cli import main

sys.exit(main())
