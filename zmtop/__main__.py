import sys

from zmtop.cli import main

sys.exit(main())
