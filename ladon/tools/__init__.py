"""Ladon 1.0's tool modules kept for service code (:mod:`ladon.tools.log`)."""
