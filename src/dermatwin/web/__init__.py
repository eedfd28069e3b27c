"""The web application: design virtual trials, run them as background jobs and read
their reports in a browser (``dermatwin serve``, docs/web.md). Research use only.

Modules: :mod:`~dermatwin.web.app` (``create_app``), :mod:`~dermatwin.web.designer`
(form to trial YAML), :mod:`~dermatwin.web.job_table` and :mod:`~dermatwin.web.runner`
(jobs), :mod:`~dermatwin.web.limits` and :mod:`~dermatwin.web.security` (a shared
server's safety), :mod:`~dermatwin.web.cli` (the command).
"""
