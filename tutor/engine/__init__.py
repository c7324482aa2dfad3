"""Docker-facing layer of the tutor.  Never imports Textual."""
