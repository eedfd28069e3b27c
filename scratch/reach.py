import sympy as sp
from dermatwin.model.skin import build
m = build(); core = build(modules=())
names = m.state_names
idx = {n: i for i, n in enumerate(names)}
deps = {n: {str(s) for s in m.rhs[idx[n]].free_symbols} & set(names) for n in names}
# output expressions used by rhs? outputs inlined presumably
reach = set(core.state_names)
changed = True
while changed:
    changed = False
    for n in names:
        if n not in reach and any(n in deps[t] for t in reach):
            reach.add(n); changed = True
print("reach core:", sorted(set(reach) - set(core.state_names)))
print("read-out:", sorted(set(names) - reach))
