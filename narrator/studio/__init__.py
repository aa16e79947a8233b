"""narrator studio: one local page to cast a book, fix its doubtful lines and listen to it.

`Studio` (session.py) does the work over the same files and code as the CLI; `StudioServer`
(server.py) is the thin HTTP layer on 127.0.0.1 with a one-time token; static/ holds the
page (plain HTML, CSS and JavaScript shipped in the package: no CDN, no build step).
"""

from narrator.studio.server import HOST, StudioServer
from narrator.studio.session import Studio, StudioConfig

__all__ = ["HOST", "Studio", "StudioConfig", "StudioServer"]
