"""Named registries: one name set per kind of pluggable part (embedding backends, clustering
algorithms, export formats, import formats), the `@rule` registry of lib/rules.py generalised.

A part registers itself with a decorator next to its implementation, e.g.
`@register_backend("onnx-int8")` in lib/embedding.py; everything that lists the names (config
`Literal`s, CLI choices, the experiments grid, help texts, the README tables) reads them from the
registry, so adding a part is one decorated function plus its test.

A `Registry` is a dict name -> entry (in registration order) with aliases (old names that still
parse, e.g. the experiments grid's `minilm`), a one-line description per name, and `spec` strings
`name:argument` (e.g. `sklearn:AgglomerativeClustering`, `sentence-transformers:<model path>`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Generic, Literal, TypeVar

T = TypeVar("T")


class Registry(dict, Generic[T]):
    """name -> entry. `kind` names the registry in error messages ("embedding backend")."""

    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind
        self.aliases: dict[str, str] = {}
        self.descriptions: dict[str, str] = {}

    def add(self, name: str, entry: T, description: str = "", aliases: Iterable[str] = ()) -> T:
        if not name or ":" in name:
            raise ValueError(f"{self.kind} name {name!r} must be non-empty and hold no ':'")
        self[name] = entry
        self.descriptions[name] = description
        for alias in aliases:
            self.aliases[alias] = name
        return entry

    def remove(self, name: str) -> None:
        """Forget `name` and its aliases (tests that register a throwaway part clean up with this)."""
        self.pop(name, None)
        self.descriptions.pop(name, None)
        for alias in [a for a, n in self.aliases.items() if n == name]:
            del self.aliases[alias]

    def names(self, where: Callable[[T], bool] | None = None) -> tuple[str, ...]:
        """The registered names (registration order), those whose entry passes `where` when given."""
        return tuple(n for n, e in self.items() if where is None or where(e))

    def known(self, where: Callable[[T], bool] | None = None) -> str:
        return ", ".join(self.names(where))

    def resolve(self, name: str) -> str:
        """The registered name for `name` or one of its aliases; ValueError naming the known ones."""
        if name in self:
            return name
        if name in self.aliases:
            return self.aliases[name]
        raise ValueError(f"unknown {self.kind} {name!r}; one of {self.known()}")

    def entry(self, name: str) -> T:
        return self[self.resolve(name)]

    def parse(self, spec: str) -> tuple[str, str | None]:
        """`name` or `name:argument` (name or alias) -> (registered name, argument or None)."""
        name, sep, arg = str(spec).partition(":")
        return self.resolve(name), (arg if sep else None)

    def literal(self, where: Callable[[T], bool] | None = None):
        """`typing.Literal` of the names, for a config field."""
        return Literal[self.names(where)]

    def help(self, where: Callable[[T], bool] | None = None, sep: str = "; ") -> str:
        """"'name': description" for every name, for help texts and config descriptions."""
        return sep.join(f"'{n}'" + (f": {self.descriptions[n]}" if self.descriptions.get(n) else "")
                        for n in self.names(where))

    def markdown_table(self, where: Callable[[T], bool] | None = None, header: str = "name") -> str:
        """A Markdown table name | description (what the README lists)."""
        lines = [f"| {header} | description |", "|---|---|"]
        lines += [f"| `{n}` | {self.descriptions.get(n, '')} |" for n in self.names(where)]
        return "\n".join(lines)


def first_doc_line(fn) -> str:
    return ((getattr(fn, "__doc__", None) or "").strip().splitlines() or [""])[0]
