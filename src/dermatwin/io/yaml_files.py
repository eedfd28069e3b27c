"""Former home of the YAML reader: it lives in :mod:`dermatwin._base.yaml_files`.

Kept for code outside dermatwin (and branches not yet rebased) that imports this path;
code inside dermatwin imports from ``dermatwin._base.yaml_files``.
"""

from dermatwin._base.yaml_files import (
    ARM_NAME,
    ARM_NAME_RULE,
    MAX_DEPTH,
    MAX_ECHO,
    MAX_FILE_BYTES,
    MAX_NODES,
    Number,
    StrictModel,
    Whole,
    check_arm_names,
    field_path,
    message_of,
    one_line,
    parse_yaml,
    read_mapping,
    read_text,
    read_yaml,
    short,
    validation_message,
    whole_number,
)

__all__ = [
    "ARM_NAME",
    "ARM_NAME_RULE",
    "MAX_DEPTH",
    "MAX_ECHO",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "Number",
    "StrictModel",
    "Whole",
    "check_arm_names",
    "field_path",
    "message_of",
    "one_line",
    "parse_yaml",
    "read_mapping",
    "read_text",
    "read_yaml",
    "short",
    "validation_message",
    "whole_number",
]
