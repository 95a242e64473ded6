"""Adapters: implementations of the ports in healthchat.ports."""
