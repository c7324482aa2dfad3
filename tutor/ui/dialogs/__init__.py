"""Small modal questions asked on behalf of a widget: run, exec, confirm."""
