import numpy as np
from scipy import optimize
from dermatwin.model.skin import build
from dermatwin.model.skin.barrier import S_LESIONAL
from dermatwin.model.skin.macrophages import TH2_LESIONAL
from dermatwin.patients.population import PopulationSpec, generate
from dermatwin.params.parameter_set import load_parameter_set
import math
m = build().with_defaults(**load_parameter_set("CAL-2").model_overrides())
spec = PopulationSpec(disease="AD", inclusion={"EASI": {"min": 16}, "IGA": {"min": 3}})
pop = generate(m, spec, 400, seed=11)
y = pop.y0; P = pop.parameters
s = y[:, m.state_index("s")]; th2 = (y[:, m.state_index("IL4")] + y[:, m.state_index("IL13")]) / TH2_LESIONAL
carr = P[:, m.parameter_index("sa_carriage")]
g = math.log(19.74) / 2
def mean_col(l0, s=s, th2=th2):
    D = (1 - s) / (1 - S_LESIONAL)
    return np.mean(1 / (1 + np.exp(-(l0 + g * (D - 1) + g * (th2 - 1) + np.log(carr)))))
l0 = optimize.brentq(lambda x: mean_col(x) - 0.70, -10, 10)
print("logit0", l0, "mean D", np.mean((1-s)/(1-S_LESIONAL)), "mean th2", th2.mean(), "carr sd", np.log(carr).std())
print("col at y0 (model state, current logit):", y[:, m.state_index("sa_colonisation")].mean())
print("nonlesional s=0.93, th2 lesional:", mean_col(l0, s=np.full_like(s, 0.93)))
print("nonlesional s=0.93, th2 half:", mean_col(l0, s=np.full_like(s, 0.93), th2=th2/2))
easi = 36*(y[:, m.state_index("p")] + 1 - s)
D = (1 - s) / (1 - S_LESIONAL)
c = 1 / (1 + np.exp(-(l0 + g * (D - 1) + g * (th2 - 1) + np.log(carr))))
for lo, hi in ((16, 25), (25, 35), (35, 72)):
    k = (easi >= lo) & (easi < hi); print(lo, hi, k.sum(), c[k].mean())
