"""The logic of postcli, usable as a library: no Typer, no Rich, no printing."""
