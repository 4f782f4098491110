import sys

from atlas_viz.cli.main import main

sys.exit(main())
