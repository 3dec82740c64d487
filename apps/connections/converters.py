"""The URL converter for ids of upstream objects in our own URLs (`<remote_id:user_id>`).

An id the providers would refuse to send (`apps.providers.http.segment_problem`: `/`, `\\`, `.`/`..`, `?`, `#`,
control or invisible characters, surrounding spaces, over-long) names no object, so the router refuses it: 404
before any view runs, for every method, whatever the view does with it. The providers check the same rule again
for ids that reach them another way (forms, query strings)."""

from __future__ import annotations

from django.urls import register_converter

from apps.providers.http import segment_problem


class RemoteIdConverter:
    regex = "[^/]+"

    def to_python(self, value: str) -> str:
        problem = segment_problem(value)
        if problem:
            raise ValueError(problem)  # the router reads a ValueError as "no match": 404
        return value

    def to_url(self, value: str) -> str:
        return str(value)


register_converter(RemoteIdConverter, "remote_id")
