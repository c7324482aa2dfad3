"""Workshops: kiosk seats on shared machines, browser seats, seat reset, offline image bundles.

Nothing here imports Textual: the kiosk's screens live in ``tutor.ui.kiosk``;
the headless commands (``tutor kiosk check|reset|hash-pin``, ``tutor images
save|load``, ``tutor serve``) use these modules directly.
"""
