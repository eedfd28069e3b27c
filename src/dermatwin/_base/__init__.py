"""The base layer: what every other layer may use, importing nothing of the domain.

- :mod:`dermatwin._base.errors`: the user-facing error classes (one line, no traceback);
- :mod:`dermatwin._base.times`: times as days from numbers or strings like ``"16 weeks"``;
- :mod:`dermatwin._base.yaml_files`: reading user YAML (duplicate keys refused) and the
  one-line formatter of validation errors;
- :mod:`dermatwin._base.atomic`: crash-safe (atomic) file writes;
- :mod:`dermatwin._base.rng`: named random streams (``rng_stream(seed, *keys)``);
- :mod:`dermatwin._base.disclaimer`: the research-use disclaimer (one wording).

Modules here import only the standard library, numpy, pandas, pydantic and PyYAML, and
each other (``tests/test_layers.py`` checks it). Nothing is imported eagerly.
"""
