"""The images the course's Dockerfiles start FROM: declared once, for the engine and the course.

Light on purpose (no docker SDK): the lesson validator reads it without touching an engine.
"""

from __future__ import annotations

COURSE_BASE_IMAGES: tuple[str, ...] = ("golang:1.24-alpine", "alpine:latest")
EMPTY_IMAGE = "scratch"  # not an image: the builder starts from nothing
