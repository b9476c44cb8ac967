"""Machine-made mutants: every single-edit variation of the solution regions of a notebook.

Each operator looks at one node of a solution region (the code between ``### BEGIN SOLUTION``
and ``### END SOLUTION``), or at a default value of a function that holds a region, and
proposes replacement source for it. A mutant is the solution's code cells with exactly one
such edit; edits that do not parse, change nothing, or duplicate another edit are dropped.
"""

from __future__ import annotations

import ast
import copy
import difflib
from dataclasses import dataclass

from autograder.worker.main import strip_magics

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"

# operator classes, as reported
ARITH, COMPARE, CONST, AXIS, KEEPDIMS, DROP, FLOAT32, INPLACE, DEFAULT, CALL, STMT, LOGIC = (
    "arithmetic",
    "comparison",
    "constant",
    "axis",
    "keepdims",
    "dropped-term",
    "float32",
    "in-place",
    "default",
    "removed-call",
    "dropped-statement",
    "logic",
)

BINOP_SWAPS = {
    ast.Add: [ast.Sub, ast.Mult],
    ast.Sub: [ast.Add],
    ast.Mult: [ast.Div, ast.Add],
    ast.Div: [ast.Mult, ast.FloorDiv],
    ast.FloorDiv: [ast.Div],
    ast.Pow: [ast.Mult],
    ast.MatMult: [ast.Mult],
    ast.Mod: [ast.FloorDiv],
}
COMPARE_SWAPS = {
    ast.Gt: [ast.GtE, ast.Lt],
    ast.GtE: [ast.Gt, ast.LtE],
    ast.Lt: [ast.LtE, ast.Gt],
    ast.LtE: [ast.Lt, ast.GtE],
    ast.Eq: [ast.NotEq],
    ast.NotEq: [ast.Eq],
    ast.Is: [ast.IsNot],
    ast.IsNot: [ast.Is],
    ast.In: [ast.NotIn],
    ast.NotIn: [ast.In],
}
# f(e, ...) -> e: the wrapped operation forgotten
UNWRAP = {
    "sqrt", "abs", "exp", "log", "log1p", "expm1", "tanh", "sign", "float", "square", "erf",
    "asarray", "array", "maximum", "minimum", "sum", "mean", "exp2", "log2", "log10",
}  # fmt: skip
# obj.m(...) -> obj
METHOD_UNWRAP = {"sum", "mean", "max", "min", "copy", "reshape", "astype", "ravel", "flatten"}
FUNC_SWAPS = {
    "exp": ["expm1"],
    "expm1": ["exp"],
    "log": ["log1p", "log2"],
    "log1p": ["log"],
    "maximum": ["minimum"],
    "minimum": ["maximum"],
    "sum": ["mean"],
    "mean": ["sum"],
    "max": ["min"],
    "min": ["max"],
    "zeros": ["ones", "empty"],
    "zeros_like": ["ones_like", "empty_like"],
    "ones": ["zeros"],
    "ones_like": ["zeros_like"],
    "empty_like": ["zeros_like"],
    "var": ["std"],
    "std": ["var"],
}


@dataclass(frozen=True)
class Mutant:
    """One edit of the solution. ``cells`` are all code cells with the edit applied;
    ``before``/``after`` are the edited source lines (stripped, joined with `` / ``)."""

    id: str
    function: str  # qualified: "f" or "Class.method"
    top: str  # the top-level name that holds it: "f" or "Class"
    operator: str
    cell: int
    line: int  # 1-based, in the cell
    before: str
    after: str
    cells: tuple[str, ...]


@dataclass
class _Edit:
    operator: str
    node: ast.AST  # the node whose source span is replaced
    text: str  # replacement source (for statements: possibly several lines, no indent)
    statement: bool = False


def solution_regions(source: str) -> list[tuple[int, int]]:
    """1-based ``(begin, end)`` line numbers of the markers of each solution region."""
    regions, start = [], None
    for number, line in enumerate(source.splitlines(), 1):
        if BEGIN in line:
            start = number
        elif END in line and start is not None:
            regions.append((start, number))
            start = None
    return regions


def _in_regions(node: ast.AST, regions) -> bool:
    return any(b < node.lineno and node.end_lineno < e for b, e in regions)


def _expr(node: ast.AST) -> str:
    """Source of an expression, parenthesized unless it is a primary (name, call, ...)."""
    text = ast.unparse(node)
    primary = (ast.Name, ast.Call, ast.Attribute, ast.Subscript, ast.List, ast.Tuple, ast.Dict)
    if isinstance(node, primary) or (isinstance(node, ast.Constant) and not _negative(node.value)):
        return text if not isinstance(node, ast.Tuple) else f"({text})"
    return f"({text})"


def _negative(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value < 0


def _call_name(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def _number_mutations(value) -> list:
    """Replacement values for a numeric constant."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        out = [value + 1, value - 1]
        if value not in (0, 1):
            out += [0, 1]
        return out
    if isinstance(value, float):
        out = [0.0, 1.0, -value, 2.0 * value]
        if 0.0 < abs(value) < 1e-3:  # an eps: an order of magnitude either way
            out += [value * 10.0, value / 10.0]
        for digits in (3, 5):  # a constant typed with too few digits
            out.append(float(f"{value:.{digits}g}"))
        return [v for v in out if v != value]
    return []


def _literal(value) -> ast.expr:
    if _negative(value):
        return ast.UnaryOp(ast.USub(), ast.Constant(-value))
    return ast.Constant(value)


class _Collector(ast.NodeVisitor):
    """Walks one cell's tree and proposes edits for nodes inside solution regions."""

    def __init__(self, regions, defaults=None):
        self.regions = regions
        self.defaults = defaults  # {qualified function: {parameter}}; None: every default
        self.edits: list[tuple[str, _Edit]] = []  # (qualified function, edit)
        self.scope: list[str] = []
        self.function: ast.FunctionDef | None = None

    # -- scopes --------------------------------------------------------------------

    def visit_ClassDef(self, node):
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    def visit_FunctionDef(self, node):
        self.scope.append(node.name)
        outer, self.function = self.function, node
        if any(node.lineno <= b <= node.end_lineno for b, _ in self.regions):
            self._defaults(node)
            self._parameters(node)
        self.generic_visit(node)
        self.function = outer
        self.scope.pop()

    def add(self, edit: _Edit):
        self.edits.append((".".join(self.scope), edit))

    def inside(self, node) -> bool:
        return hasattr(node, "lineno") and _in_regions(node, self.regions)

    # -- signatures ----------------------------------------------------------------

    def _defaults(self, fn: ast.FunctionDef):
        positional = fn.args.posonlyargs + fn.args.args
        with_default = positional[len(positional) - len(fn.args.defaults) :]
        pairs = list(zip(with_default, fn.args.defaults, strict=True))
        pairs += [(a, d) for a, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=True) if d]
        allowed = None if self.defaults is None else self.defaults.get(".".join(self.scope), set())
        for arg, default in pairs:
            if not isinstance(default, ast.Constant):
                continue
            if allowed is not None and arg.arg not in allowed:
                continue
            values = _number_mutations(default.value)
            if isinstance(default.value, str):
                values = sorted(self._compared_strings(fn, arg.arg) - {default.value})
            for value in values:
                self.add(_Edit(DEFAULT, default, _expr(_literal(value))))

    @staticmethod
    def _compared_strings(fn, name) -> set[str]:
        found = set()
        for node in ast.walk(fn):
            if isinstance(node, ast.Compare):
                parts = [node.left, *node.comparators]
                if any(isinstance(p, ast.Name) and p.id == name for p in parts):
                    found |= {
                        p.value
                        for p in parts
                        if isinstance(p, ast.Constant) and isinstance(p.value, str)
                    }
        return found

    def _parameters(self, fn: ast.FunctionDef):
        """float32 copies of array parameters, at the top of the first region."""
        body = [s for s in fn.body if self.inside(s)]
        if not body:
            return
        for arg in fn.args.posonlyargs + fn.args.args:
            if arg.arg in ("self", "cls"):
                continue
            name = arg.arg
            text = (
                f"{name} = {name}.astype(np.float32) if isinstance({name}, np.ndarray) else {name}"
            )
            insert = ast.parse(text).body[0]
            node = body[0]
            self.add(_Edit(FLOAT32, node, ast.unparse(insert) + "\n" + ast.unparse(node), True))

    # -- statements ----------------------------------------------------------------

    def generic_visit(self, node):
        if isinstance(node, ast.stmt) and self.inside(node) and self.function is not None:
            self._statement(node)
        if isinstance(node, ast.expr) and self.inside(node):
            self._expression(node)
        if isinstance(node, ast.JoinedStr):
            return  # no edits inside f-strings
        super().generic_visit(node)

    def _statement(self, node: ast.stmt):
        simple = (ast.Assign, ast.AugAssign, ast.Expr, ast.AnnAssign)
        if isinstance(node, simple) and not (
            isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        ):
            self.add(_Edit(STMT, node, "pass", True))
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            self._assign(node)
        if isinstance(node, ast.Return) and node.value is not None:
            values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
            for v in values:
                if self._maybe_array(v):
                    new = copy.deepcopy(node)
                    self._cast_in(new, v)
                    self.add(_Edit(FLOAT32, node, ast.unparse(new), True))

    def _cast_in(self, new_stmt, old_value):
        """Replace (by position) ``old_value`` inside ``new_stmt`` with its float32 cast."""
        for parent in ast.walk(new_stmt):
            for field, child in ast.iter_fields(parent):
                items = child if isinstance(child, list) else [child]
                for i, item in enumerate(items):
                    if (
                        isinstance(item, ast.expr)
                        and getattr(item, "lineno", None) == old_value.lineno
                        and item.col_offset == old_value.col_offset
                        and type(item) is type(old_value)
                        and ast.dump(item) == ast.dump(old_value)
                    ):
                        cast = ast.parse(f"np.float32({ast.unparse(item)})", mode="eval").body
                        if isinstance(child, list):
                            child[i] = cast
                        else:
                            setattr(parent, field, cast)
                        return

    @staticmethod
    def _maybe_array(v: ast.expr) -> bool:
        return isinstance(v, ast.BinOp | ast.Call | ast.Name | ast.Subscript | ast.UnaryOp)

    def _assign(self, node: ast.Assign):
        target, value = node.targets[0], node.value
        if isinstance(target, ast.Name) and self._maybe_array(value):
            if not isinstance(value, ast.Name):
                cast = f"{target.id} = np.float32({ast.unparse(value)})"
                self.add(_Edit(FLOAT32, node, cast, True))
        if not (isinstance(target, ast.Name) and isinstance(value, ast.BinOp)):
            return
        left = value.left
        op = value.op
        if isinstance(left, ast.Name):
            rhs = ast.unparse(value.right)
            sym = _op_symbol(op)
            if left.id == target.id:  # v = v - e  ->  v -= e
                self.add(_Edit(INPLACE, node, f"{target.id} {sym}= {rhs}", True))
            elif self._is_parameter(left.id):  # v = x - e  ->  x -= e; v = x
                self.add(
                    _Edit(INPLACE, node, f"{left.id} {sym}= {rhs}\n{target.id} = {left.id}", True)
                )

    def _is_parameter(self, name: str) -> bool:
        fn = self.function
        if fn is None:
            return False
        return name in {a.arg for a in fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs}

    # -- expressions ---------------------------------------------------------------

    def _expression(self, node: ast.expr):
        if isinstance(node, ast.BinOp):
            self._binop(node)
        elif isinstance(node, ast.Compare):
            self._compare(node)
        elif isinstance(node, ast.Constant):
            for value in _number_mutations(node.value):
                self.add(_Edit(CONST, node, _expr(_literal(value))))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.Not):
            if isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
                for value in _number_mutations(-node.operand.value):
                    self.add(_Edit(CONST, node, _expr(_literal(value))))
            else:
                self.add(_Edit(ARITH if isinstance(node.op, ast.USub) else LOGIC, node,
                               _expr(node.operand)))  # fmt: skip
        elif isinstance(node, ast.BoolOp):
            other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            self.add(_Edit(LOGIC, node, _expr(ast.BoolOp(other, node.values))))
            for v in node.values:
                self.add(_Edit(LOGIC, node, _expr(v)))
        elif isinstance(node, ast.Call):
            self._call(node)
        elif isinstance(node, ast.IfExp):
            self.add(_Edit(LOGIC, node, _expr(node.body)))
            self.add(_Edit(LOGIC, node, _expr(node.orelse)))

    def _binop(self, node: ast.BinOp):
        for new_op in BINOP_SWAPS.get(type(node.op), []):
            self.add(_Edit(ARITH, node, _expr(ast.BinOp(node.left, new_op(), node.right))))
        if isinstance(node.op, ast.Add | ast.Sub):
            self.add(_Edit(DROP, node, _expr(node.left)))
            self.add(_Edit(DROP, node, _expr(node.right)))
        elif isinstance(node.op, ast.Mult | ast.MatMult):
            self.add(_Edit(DROP, node, _expr(node.left)))
            self.add(_Edit(DROP, node, _expr(node.right)))
        elif isinstance(node.op, ast.Div | ast.FloorDiv | ast.Pow):
            self.add(_Edit(DROP, node, _expr(node.left)))
        if isinstance(node.op, ast.Sub | ast.Div):  # operands swapped
            self.add(_Edit(ARITH, node, _expr(ast.BinOp(node.right, node.op, node.left))))

    def _compare(self, node: ast.Compare):
        for i, op in enumerate(node.ops):
            for new_op in COMPARE_SWAPS.get(type(op), []):
                ops = list(node.ops)
                ops[i] = new_op()
                self.add(_Edit(COMPARE, node, _expr(ast.Compare(node.left, ops, node.comparators))))

    def _call(self, node: ast.Call):
        name = _call_name(node)
        method = isinstance(node.func, ast.Attribute) and not _is_module(node.func.value)
        for i, kw in enumerate(node.keywords):
            if kw.arg == "axis":
                for value in _axis_mutations(kw.value):
                    new = copy.deepcopy(node)
                    if value is None:
                        del new.keywords[i]
                    else:
                        new.keywords[i].value = value
                    self.add(_Edit(AXIS, node, _expr(new)))
            elif kw.arg == "keepdims":
                new = copy.deepcopy(node)
                del new.keywords[i]
                self.add(_Edit(KEEPDIMS, node, _expr(new)))
            elif kw.arg in ("dtype", "copy"):
                new = copy.deepcopy(node)
                del new.keywords[i]
                self.add(_Edit(CALL, node, _expr(new)))
        if method and name in METHOD_UNWRAP:
            self.add(_Edit(CALL, node, _expr(node.func.value)))
        elif not method and name in UNWRAP and node.args:
            for arg in node.args[: 2 if name in ("maximum", "minimum") else 1]:
                if not isinstance(arg, ast.Starred):
                    self.add(_Edit(CALL, node, _expr(arg)))
        for other in FUNC_SWAPS.get(name, []):
            new = copy.deepcopy(node)
            if isinstance(new.func, ast.Attribute):
                new.func.attr = other
            else:
                new.func.id = other
            self.add(_Edit(CALL, node, _expr(new)))


def _is_module(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id in ("np", "math", "scipy", "special")


def _axis_mutations(value: ast.expr) -> list:
    """Replacement nodes for an ``axis=`` value; ``None`` means: drop the keyword."""
    out: list = [None]
    if isinstance(value, ast.Tuple):
        for i in range(len(value.elts)):
            rest = value.elts[:i] + value.elts[i + 1 :]
            out.append(rest[0] if len(rest) == 1 else ast.Tuple(rest, ast.Load()))
        return out
    current = ast.literal_eval(value) if _is_literal(value) else object()
    out += [_literal(a) for a in (0, 1, -1) if a != current]
    return out


def _is_literal(node) -> bool:
    try:
        ast.literal_eval(node)
    except ValueError:
        return False
    return True


def _op_symbol(op: ast.operator) -> str:
    return ast.unparse(ast.BinOp(ast.Name("a"), op, ast.Name("b")))[2:-2].strip()


# ----------------------------------------------------------------------------- applying


def _replace(source: str, edit: _Edit) -> str | None:
    """``source`` with the edit applied (column offsets are UTF-8 byte offsets)."""
    lines = source.splitlines()
    node = edit.node
    first, last = node.lineno - 1, node.end_lineno - 1
    if edit.statement:
        indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
        new = [indent + line for line in edit.text.splitlines()]
        head = lines[first].encode()[: node.col_offset].decode()
        if head.strip():  # a statement sharing its line with another: leave it alone
            return None
        tail = lines[last].encode()[node.end_col_offset :].decode()
        if tail.strip() and not tail.strip().startswith("#"):
            return None
        return "\n".join(lines[:first] + new + lines[last + 1 :])
    head = lines[first].encode()[: node.col_offset].decode()
    tail = lines[last].encode()[node.end_col_offset :].decode()
    return "\n".join(lines[:first] + [head + edit.text + tail] + lines[last + 1 :])


def _normal(tree: ast.AST) -> str:
    return ast.dump(tree, include_attributes=False)


def _diff(old: str, new: str) -> tuple[int, str, str]:
    a, b = old.splitlines(), new.splitlines()
    ops = [op for op in difflib.SequenceMatcher(None, a, b).get_opcodes() if op[0] != "equal"]
    i1 = min(op[1] for op in ops)
    removed = [a[i].strip() for op in ops for i in range(op[1], op[2])]
    added = [b[j].strip() for op in ops for j in range(op[3], op[4])]
    return i1 + 1, " / ".join(removed) or "(nothing)", " / ".join(added) or "(nothing)"


def generate_mutants(
    cells: list[str], prefix: str = "m", defaults: dict[str, set[str]] | None = None
) -> list[Mutant]:
    """Every distinct single-edit mutant of the solution regions in ``cells``. ``defaults``
    limits default-value edits to those parameters of those (qualified) functions; ``None``
    allows every default of a function that holds a solution region."""
    mutants: list[Mutant] = []
    seen: set[tuple[int, str]] = set()
    for index, cell in enumerate(cells):
        source = strip_magics(cell)
        regions = solution_regions(source)
        if not regions:
            continue
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        original = _normal(tree)
        tops = _top_names(tree)
        collector = _Collector(regions, defaults)
        collector.visit(tree)
        for function, edit in collector.edits:
            new_source = _replace(source, edit)
            if new_source is None:
                continue
            try:
                new_tree = ast.parse(new_source)
            except SyntaxError:
                continue
            key = _normal(new_tree)
            if key == original or (index, key) in seen:
                continue
            seen.add((index, key))
            line, before, after = _diff(source, new_source)
            new_cells = list(cells)
            new_cells[index] = new_source
            mutants.append(
                Mutant(
                    id=f"{prefix}{len(mutants) + 1:04d}",
                    function=function,
                    top=tops.get(function.split(".")[0], function.split(".")[0]),
                    operator=edit.operator,
                    cell=index,
                    line=line,
                    before=before,
                    after=after,
                    cells=tuple(new_cells),
                )
            )
    return mutants


def _top_names(tree: ast.Module) -> dict[str, str]:
    return {n.name: n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
