import numpy as np
from dermatwin.engine.events import bolus
from dermatwin.engine.simulate import simulate
from dermatwin.model.skin import build
from dermatwin.params.parameter_set import load_parameter_set
from dermatwin.patients.population import PopulationSpec, generate
m = build().with_defaults(**load_parameter_set("CAL-2").model_overrides())
pop = generate(m, PopulationSpec(disease="AD", inclusion={"EASI": {"min": 5}}), 8, seed=3)
times = np.arange(0, 71, 1.0)
for size in (0.1, 0.3, 1.0):
    ev = [bolus(7.0, "p", size)]
    ds = simulate(m, times, pop.parameters, y0=pop.y0, events=[ev]*8, start_status=pop.status)
    e = ds["EASI"].values
    print(size, np.round(e[:3, [0, 7, 8, 10, 14, 21, 28, 42, 70]], 1))
