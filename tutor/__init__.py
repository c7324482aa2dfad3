"""tutor: learn how Docker images are built, by building them."""

__version__ = "0.1.0"
