"""Pydantic validation errors as diagnostics: ``file:line:col``, plain words, and a suggestion for a
misspelt key (drawn from every model's field names, never a hand-kept list)."""

from __future__ import annotations

import difflib
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from policy.load import yamlio
from policy.model.contract import ContractError
from policy.model.errors import Diagnostic

M = TypeVar("M", bound=BaseModel)

# ------------------------------------------------------------------ pydantic errors -> diagnostics


def _model_keys() -> list[str]:
    """Every key a file may use: each model's field names and aliases (``from``, ``not``, ``in``)."""
    import policy.model as model_package

    seen: set[type[BaseModel]] = set()
    public = [getattr(model_package, name) for name in model_package.__all__]
    todo = [m for m in public if isinstance(m, type) and issubclass(m, BaseModel)]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        todo += m.__subclasses__()
    keys = {f.alias or name for m in seen for name, f in m.model_fields.items()}
    return sorted(k for k in keys if not k.endswith("_"))


_KNOWN_KEYS = _model_keys()


def _clean(msg: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    return msg


def _loc_text(loc: tuple[Any, ...]) -> str:
    parts = [
        str(p) for p in loc if isinstance(p, int) or p not in ("all", "any", "not", "fact", "list") or p in loc[-1:]
    ]
    return ".".join(parts) if parts else "(document)"


def validation_diagnostics(exc: ValidationError, doc: yamlio.Document) -> list[Diagnostic]:
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        kind = err["type"]
        where = _loc_text(loc)
        if kind == "extra_forbidden":
            key = loc[-1]
            match = difflib.get_close_matches(str(key), _KNOWN_KEYS, n=1, cutoff=0.7)
            out.append(
                Diagnostic(
                    "unknown-field",
                    f"unknown field `{key}` at `{where}`",
                    doc.key_span(loc),
                    f"did you mean `{match[0]}`?" if match else "remove it or check the spelling",
                )
            )
        elif kind == "missing":
            out.append(Diagnostic("missing-field", f"missing field `{loc[-1]}` at `{where}`", doc.span(loc[:-1])))
        elif isinstance((err.get("ctx") or {}).get("error"), ContractError):
            ce = err["ctx"]["error"]
            out.append(Diagnostic(ce.code, f"`{where}`: {ce.message}", doc.span(loc), ce.hint))
        else:
            msg = _clean(err["msg"])
            msg = msg.replace("Input should be", "expected").replace(
                "a valid dictionary or instance of ", "a mapping ("
            )
            if "a mapping (" in msg:
                msg = msg.split("a mapping (")[0] + "a mapping"
            out.append(Diagnostic("invalid-value", f"`{where}`: {msg}", doc.span(loc)))
    return out


def validate_model(model: type[M], doc: yamlio.Document, diags: list[Diagnostic]) -> M | None:
    if not isinstance(doc.data, dict):
        diags.append(Diagnostic("not-a-mapping", "expected a YAML mapping at the top of the file", doc.span()))
        return None
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        diags.extend(validation_diagnostics(exc, doc))
        return None
