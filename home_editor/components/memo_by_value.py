"""React's `memo` with props compared by value, one level deep.

Every page update sends the whole list of cards again, as new objects: with React's default comparison
(by identity) every card re-renders on every update, which costs ~10 ms of the browser's main thread per
card on a small machine. Compared by value, only the cards whose data changed re-render.
"""

import reflex as rx
from reflex.utils.imports import ImportVar

_SAME_VALUES = """((a, b) => {
  const same = (x, y) => {
    if (x === y) return true;
    if (!x || !y || typeof x !== "object" || typeof y !== "object") return false;
    const keys = Object.keys(x);
    return keys.length === Object.keys(y).length && keys.every((key) => x[key] === y[key]);
  };
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => same(a[key], b[key]));
})"""

MEMO_BY_VALUE = rx.vars.FunctionStringVar.create(
    f"((component) => memo(component, {_SAME_VALUES}))",
    _var_data=rx.vars.VarData(imports={"react": [ImportVar(tag="memo")]}),
)
