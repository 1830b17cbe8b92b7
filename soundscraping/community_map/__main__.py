"""``python -m soundscraping.community_map`` (the same as ``soundscraping map``)."""

import sys

from soundscraping.community_map.cli import main

sys.exit(main())
