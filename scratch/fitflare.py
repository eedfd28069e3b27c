import itertools, sys
import numpy as np
from dermatwin.trials.spec import load_trial, TrialSpec
from dermatwin.trials.run import run_trial
base = load_trial("/tmp/flares.yaml").model_dump(mode="python")
obs = np.array([3.7, 44.8, 20.8, 30.7])
eps = ["flares_per_year:0-0", "flares_per_year:1-5", "flares_per_year:6-10", "flares_per_year:11-"]
res = []
for rate, shape, size in itertools.product(*(list(map(float, a.split(","))) for a in sys.argv[1:4])):
    d = dict(base); d["triggers"] = {"rate_per_year": rate, "shape": shape, "size": size}
    d["arms"] = {"untreated": {"n": 150}}; d["flare_fraction"] = float(sys.argv[4]); d["population"] = {"inclusion": {"EASI": {"min": 1, "max": float(sys.argv[5])}}}
    r = run_trial(TrialSpec.model_validate(d))
    t = r.endpoints
    pred = np.array([100 * t[e].mean() for e in eps])
    err = float(np.sum((pred - obs) ** 2))
    res.append((err, rate, shape, size, pred.round(1), float(t["flares_per_year"].mean())))
    print(f"{rate:5} {shape:4} {size:5} err {err:7.1f} pred {pred.round(1)} mean {t['flares_per_year'].mean():.2f}", flush=True)
