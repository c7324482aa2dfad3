"""BuildKit: the builder of every Docker since 23.0, driven through buildx or the engine's API."""
