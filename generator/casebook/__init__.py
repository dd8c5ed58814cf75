"""共富案例库 (casebook): turns validated YAML case files into a searchable static site."""

__version__ = "0.1.0"
