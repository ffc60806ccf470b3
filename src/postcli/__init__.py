"""postcli: publish to social networks and get honest analytics from the terminal."""

__version__ = "0.1.0"
