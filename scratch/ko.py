import sys, time
import numpy as np
from dermatwin.engine.simulate import simulate
from dermatwin.model.skin import build
from dermatwin.params.parameter_set import load_parameter_set
from dermatwin.patients.population import PopulationSpec, generate
from dermatwin.therapy.regimen import Regimen, msc_course

N = int(sys.argv[1]) if len(sys.argv) > 1 else 24
WEEK = 7.0
t0 = time.time()
pset = load_parameter_set("CAL-2")
model = build().with_defaults(**pset.model_overrides())
print("build", time.time() - t0, flush=True)

def run(pop, score, times, course, **ov):
    params = np.array(pop.parameters, copy=True)
    events = []
    if course is not None:
        plan = Regimen([course], horizon_days=float(times[-1])).plan()
        for k, v in plan.parameters.items():
            params[:, model.parameter_index(k)] = v
        events = plan.events
    for k, v in ov.items():
        params[:, model.parameter_index(k)] = v
    ds = simulate(model, times, params, y0=pop.y0, events=events, start_status=pop.status)
    assert np.all(ds["status"].values == 0)
    return ds[score].values

def paired(pop, score, times, course, **ov):
    return (run(pop, score, times, course, **ov) - run(pop, score, times, None, **ov)).mean(axis=0)

ad = generate(model, PopulationSpec(disease="AD", inclusion={"EASI": {"min": 16}, "IGA": {"min": 3}}), N, seed=14)
pso = generate(model, PopulationSpec(disease="psoriasis", inclusion={"PASI": {"min": 12}}), N, seed=14)
print("pops", time.time() - t0, flush=True)
iv = msc_course(amount=1e8, times=(0.0, 28.0), source="adipose", origin="autologous", unit="cells", route="IV")
sc = msc_course(amount=5e7, times=(0.0,), source="umbilical_cord_blood", origin="allogeneic", unit="cells", route="SC")
ucb_iv = msc_course(amount=1.4e8, times=(0.0, 14.0, 28.0), source="umbilical_cord", origin="allogeneic", unit="cells", route="IV")
KO = {
    "full": {},
    "tolerance": {"tol_induction": 0.0},
    "immune": {"msc_emax": 0.0},
    "mac_educ": {"mac_msc_gain": 0.0},
    "mac_tnf": {"mac_tnf_share": 0.0},
    "il10": {"il10_t_gain": 0.0},
    "tgfb": {"treg_tgfb_gain": 0.0},
    "vessels": {"vessel_influx_exp": 0.0},
    "barrier": {"gf_barrier_emax": 0.0},
}
tAD = np.array([0.0, 4.0, 16.0]) * WEEK
for name, ov in KO.items():
    a = paired(ad, "EASI", tAD, iv, **ov)
    s = paired(ad, "EASI", tAD, sc, **ov)
    p = paired(pso, "PASI", tAD, ucb_iv, **ov)
    print(f"{name:10s} AD-IV w4 {a[1]:+.3f} w16 {a[2]:+.3f} | AD-SC w4 {s[1]:+.3f} w16 {s[2]:+.3f} | PSO-IV w4 {p[1]:+.4f} w16 {p[2]:+.4f}", flush=True)
print("total", time.time() - t0)
