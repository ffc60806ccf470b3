"""Renderers beyond the terminal: the self-contained HTML report and its inline SVG charts."""
