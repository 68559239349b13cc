"""Campus: an open smart-campus platform for Chinese universities."""

__version__ = "0.1.0"
