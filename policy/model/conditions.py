"""Conditions: leaves over named facts, combined with all/any/not."""

from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, Union

from pydantic import BaseModel, Discriminator, Field, Tag, model_validator
from typing_extensions import TypeAliasType

from policy.model.base import Flag, Strict

# ---------------------------------------------------------------- conditions

OPS: tuple[str, ...] = ("eq", "ne", "in", "not_in", "lt", "lte", "gt", "gte", "within", "exists")
_OPS_SET = frozenset(OPS)


class Leaf(Strict):
    """``{fact: NAME, <op>: VALUE}``: one comparison of a fact with a value."""

    fact: str
    eq: Any = None
    ne: Any = None
    in_: list[Any] | None = Field(None, alias="in")
    not_in: list[Any] | None = None
    lt: Any = None
    lte: Any = None
    gt: Any = None
    gte: Any = None
    within: list[str] | str | None = None
    exists: Flag | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_op(cls, data: Any) -> Any:
        if isinstance(data, dict) and len(data) != 2:
            ops = [k for k in data if k in _OPS_SET]
            if len(ops) != 1 and len(ops) == len(data) - ("fact" in data):
                raise ValueError(f"a condition needs exactly one operator ({', '.join(OPS)}); found {len(ops)}")
        return data

    @property
    def op(self) -> str:
        # validation leaves exactly one field besides `fact` set: that is the operator
        for name in self.model_fields_set:
            if name != "fact":
                return "in" if name == "in_" else name
        raise AssertionError("validated leaf has an operator")  # pragma: no cover

    @property
    def value(self) -> Any:
        return getattr(self, "in_" if self.op == "in" else self.op)


class All(Strict):
    all: list["Condition"]


class Any_(Strict):
    any: list["Condition"]


class Not(Strict):
    not_: "Condition" = Field(alias="not")


def _condition_tag(v: Any) -> str | None:
    if isinstance(v, list):
        return "list"
    if isinstance(v, dict):
        for key in ("all", "any", "not", "fact"):
            if key in v:
                return key
        return "fact"
    if isinstance(v, BaseModel):
        return {All: "all", Any_: "any", Not: "not", Leaf: "fact"}.get(type(v))
    return None


if TYPE_CHECKING:  # mypy reads the recursive alias; pydantic needs TypeAliasType at run time
    Condition: TypeAlias = Union[All, Any_, Not, Leaf, list["Condition"]]
else:
    Condition = TypeAliasType(
        "Condition",
        Annotated[
            Union[
                Annotated[All, Tag("all")],
                Annotated[Any_, Tag("any")],
                Annotated[Not, Tag("not")],
                Annotated[Leaf, Tag("fact")],
                Annotated[list["Condition"], Tag("list")],
            ],
            Discriminator(
                _condition_tag,
                custom_error_type="condition",
                custom_error_message=(
                    "expected a condition: {fact: ..., <op>: ...}, {all: [...]}, {any: [...]}, {not: ...} or a list"
                ),
            ),
        ],
    )


def iter_leaves(cond: Any, path: tuple[Any, ...] = ()) -> "list[tuple[Leaf, tuple[Any, ...]]]":
    """Every leaf in a condition, with its path from the condition's root (for locations)."""
    out: list[tuple[Leaf, tuple[Any, ...]]] = []
    if cond is None:
        return out
    if isinstance(cond, Leaf):
        out.append((cond, path))
    elif isinstance(cond, list):
        for i, c in enumerate(cond):
            out.extend(iter_leaves(c, path + (i,)))
    elif isinstance(cond, All):
        for i, c in enumerate(cond.all):
            out.extend(iter_leaves(c, path + ("all", i)))
    elif isinstance(cond, Any_):
        for i, c in enumerate(cond.any):
            out.extend(iter_leaves(c, path + ("any", i)))
    elif isinstance(cond, Not):
        out.extend(iter_leaves(cond.not_, path + ("not",)))
    return out
