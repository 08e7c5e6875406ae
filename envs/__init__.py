"""Gymnasium text environments with verifiable rewards."""
