"""Round-trip frozen dataclasses through plain JSON values, driven by their type hints.

Profiles (``detect --json``) and plans (``plan --format json``) are saved and loaded with this, so a
profile saved on one machine plans identically on another.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

T = TypeVar("T")


def to_json(value: Any) -> Any:
    """Convert dataclasses, tuples and dicts to JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return value


class SchemaError(ValueError):
    """The data does not have the shape of the dataclass; the message names the field."""


def from_json(cls: type[T], data: Any, where: str = "") -> T:
    """Build ``cls`` from ``data``; unknown keys are ignored, missing ones take their defaults."""
    return typing.cast(T, _convert(cls, data, where or cls.__name__))


def _convert(tp: Any, data: Any, where: str) -> Any:
    origin = get_origin(tp)
    if tp is Any:
        return data
    if origin in (typing.Union, types.UnionType):
        args = get_args(tp)
        if data is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(arg, data, where)
            except SchemaError as err:
                errors.append(str(err))
        raise SchemaError(errors[0] if errors else f"{where}: unexpected null")
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(data, dict):
            raise SchemaError(f"{where}: expected an object")
        hints = get_type_hints(tp)
        kwargs = {}
        for f in dataclasses.fields(tp):
            if f.name in data:
                kwargs[f.name] = _convert(hints[f.name], data[f.name], f"{where}.{f.name}")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise SchemaError(f"{where}.{f.name}: missing")
        return tp(**kwargs)
    if origin is tuple:
        if not isinstance(data, (list, tuple)):
            raise SchemaError(f"{where}: expected a list")
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v, f"{where}[{i}]") for i, v in enumerate(data))
        if len(args) != len(data):
            raise SchemaError(f"{where}: expected {len(args)} items")
        return tuple(
            _convert(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, data, strict=True))
        )
    if origin is dict:
        if not isinstance(data, dict):
            raise SchemaError(f"{where}: expected an object")
        kt, vt = get_args(tp)
        return {_convert(kt, k, where): _convert(vt, v, f"{where}.{k}") for k, v in data.items()}
    if origin is typing.Literal:
        if data not in get_args(tp):
            raise SchemaError(f"{where}: {data!r} is not one of {get_args(tp)}")
        return data
    if tp is float and isinstance(data, int) and not isinstance(data, bool):
        return float(data)
    if isinstance(tp, type):
        if tp is int and isinstance(data, bool):
            raise SchemaError(f"{where}: expected int")
        if not isinstance(data, tp):
            raise SchemaError(f"{where}: expected {tp.__name__}, got {type(data).__name__}")
        return data
    raise SchemaError(f"{where}: unsupported type {tp!r}")
