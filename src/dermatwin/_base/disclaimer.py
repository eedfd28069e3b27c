"""The research-use disclaimer, one wording for every report, page, plot, manifest and
command.

>>> DISCLAIMER
'Research use only: dermatwin is not a medical device.'
"""

DISCLAIMER = "Research use only: dermatwin is not a medical device."
