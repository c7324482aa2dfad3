"""The Textual user interface.  Nothing outside tutor/ui imports it."""
