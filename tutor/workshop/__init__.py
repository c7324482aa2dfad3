"""Workshops: kiosk seats on shared machines, browser seats, seat reset, offline image bundles.

Nothing here imports Textual: the kiosk app is ``tutor.ui.kiosk`` and its screens ``tutor.ui.screens.kiosk``;
the headless commands (``tutor kiosk check|reset|hash-pin``, ``tutor images
save|load``, ``tutor serve``) use these modules directly.
"""
