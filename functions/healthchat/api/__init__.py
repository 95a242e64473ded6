"""The HTTP query API (issue 5): one Powertools resolver behind API Gateway and ``healthchat serve``.

``app`` holds the routes, ``service`` the operations they call, ``models`` the request, response and
error shapes, ``auth`` who the caller is. Importing this package imports nothing heavy.
"""
