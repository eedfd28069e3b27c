import numpy as np
from dermatwin.engine.events import Event, EventKind
from dermatwin.engine.simulate import simulate
from dermatwin.model.skin import build
from dermatwin.therapy.products import MSCDose, MSCProduct, msc_dose_events
model = build()
product = MSCProduct(source="umbilical_cord", origin="allogeneic")
dose = MSCDose(amount=1e8, unit="cells", route="SC", times=[1.0])
events = [Event(1.0, EventKind.SET_STATE, "wound", 1.0), *msc_dose_events(product, dose)]
params = np.vstack([model.parameter_vector(), model.parameter_vector({"vegf_per_gf": 0.0}), model.parameter_vector({"vessel_influx_exp": 0.0})])
times = np.array([0, 10, 30, 60, 120, 240, 480.0])
ds = simulate(model, times, params, events=events)
for v in ("vessel_density", "vessel_density_core", "T", "IL17_pso", "PASI_index"):
    print(v, np.round(ds[v].values, 4))
