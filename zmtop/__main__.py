import sys

from zmtop.cli.main import main

sys.exit(main())
