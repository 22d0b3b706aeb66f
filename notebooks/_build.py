"""Write the notebooks from these cell lists (outputs stripped). Run: python notebooks/_build.py"""

from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell

NOTEBOOKS = {
    "01_quickstart": [
        md("# 01 · Quickstart: the demo portfolio end to end\n"
           "Generate the synthetic portfolio, build point-in-time features, choose k, fit, "
           "validate, profile and name segments, and save the model. Everything here is the "
           "public API the CLI (`segml run`) uses."),
        code("import tempfile\nfrom pathlib import Path\n\nimport matplotlib.pyplot as plt\n\n"
             "from segml.cluster import Segmenter, profile_segments, select_k, validate_segments\n"
             "from segml.datasets import make_portfolio\n"
             "from segml.features import build_features, make_preprocessor\n"
             "from segml.persistence import SegmentModel, save_model\n"
             "from segml import plotting\n\n"
             "N_CUSTOMERS = 2000\nWORK = Path(tempfile.mkdtemp(prefix='segml-nb01-'))"),
        code("pf = make_portfolio(N_CUSTOMERS, n_segments=5, random_state=0)\npf.summary()"),
        code("fs = build_features(pf.transactions, pf.customers, as_of=pf.as_of)\n"
             "buyers = fs.frame[~fs.frame['is_prospect']]\n"
             "print(fs.frame.shape, 'prospects:', int(fs.frame['is_prospect'].sum()))\n"
             "buyers[['recency_days', 'frequency', 'monetary', 'r_score', 'f_score', 'm_score', "
             "'abc_class', 'clv']].head()"),
        code("X = make_preprocessor(fs.spec, buyers).fit_transform(buyers)\n"
             "sel = select_k(X, k_range=range(3, 8), algorithms=['kmeans'], n_stability=3, "
             "progress=False, random_state=0)\nprint(sel.rationale)\nsel.table.head(10)"),
        code("seg = Segmenter(n_clusters=sel.recommended['k'], "
             "preprocessor=make_preprocessor(fs.spec, buyers), order_by='monetary', "
             "random_state=0).fit(buyers)\n"
             "val = validate_segments(seg, buyers, n_resamples=3, random_state=0)\n"
             "prof = profile_segments(buyers, seg.labels_)\n"
             "prof.table[['n', 'share', 'revenue_share']].assign(name=prof.names, role=prof.roles)"),
        code("fig, ax = plt.subplots(figsize=(9, 4))\n"
             "plotting.plot_profile_heatmap(prof, ax, value='zscores')\nplt.show()"),
        code("model = SegmentModel.from_training(seg, buyers, name='quickstart', feature_set=fs, "
             "as_of=fs.as_of, segment_names=prof.names.to_dict(), "
             "segment_roles=prof.roles.to_dict(), profiles=prof, metrics=val)\n"
             "path = save_model(model, root=WORK / 'models')\nsorted(p.name for p in path.iterdir())"),
    ],
    "02_features_rfm_abc_clv": [
        md("# 02 · Features on CDNOW: RFM, ABC, CLV\n"
           "Point-in-time features as of two dates on the CDNOW transaction log. Set `DATA_PATH` "
           "to your copy; when the file is absent the notebook falls back to the demo portfolio."),
        code("from pathlib import Path\n\nimport matplotlib.pyplot as plt\n\n"
             "from segml import plotting\nfrom segml.datasets import make_portfolio\n"
             "from segml.features import build_features, pareto\nfrom segml.io import load_cdnow, "
             "shared_data_path\nfrom segml.projection import rfm_grid\n\n"
             "try:\n    DATA_PATH = shared_data_path('CDNOW_master.txt')\n"
             "except OSError:\n    DATA_PATH = Path('CDNOW_master.txt')"),
        code("if DATA_PATH.exists():\n    ds = load_cdnow(DATA_PATH)\n"
             "    tx, cust, dates = ds.transactions, ds.customers, ['1997-12-31', '1998-06-30']\n"
             "    print(ds.reports['transactions'])\nelse:\n"
             "    pf = make_portfolio(2000, random_state=0)\n"
             "    tx, cust, dates = pf.transactions, pf.customers, ['2023-12-31', '2024-12-31']\n"
             "len(tx), tx['customer_id'].nunique()"),
        code("sets = {d: build_features(tx, cust, as_of=d) for d in dates}\n"
             "for d, fs in sets.items():\n    p = pareto(fs.frame.loc[~fs.frame['is_prospect'], "
             "'monetary'])\n    print(d, f'customers={len(fs.frame):,}', "
             "f'top-20% revenue share={p.top20_share:.3f}', f'gini={p.gini:.3f}')"),
        code("fs = sets[dates[-1]]\nfs.frame[['recency_days', 'frequency', 'monetary', "
             "'r_score', 'f_score', 'm_score', 'rfm_code', 'abc_class', 'clv']].describe(include='all')"),
        code("fs.frame['f_score'].value_counts().sort_index()  # tie policy: tied values share a score"),
        code("fig, axes = plt.subplots(1, 2, figsize=(11, 4))\n"
             "plotting.plot_pareto(pareto(fs.frame['monetary']), axes[0])\n"
             "plotting.plot_rfm_grid(rfm_grid(fs.frame), axes[1])\nplt.show()"),
    ],
    "03_choose_k_and_validate": [
        md("# 03 · Choosing k and validating segments\n"
           "Sweep k for k-means and Gaussian mixtures, read the criteria side by side (they are "
           "allowed to disagree, and the rationale says so), then validate the chosen model."),
        code("import matplotlib.pyplot as plt\n\nfrom segml import plotting\n"
             "from segml.cluster import Segmenter, select_k, validate_segments\n"
             "from segml.datasets import make_portfolio\n"
             "from segml.features import build_features, make_preprocessor\n\n"
             "pf = make_portfolio(2000, n_segments=5, random_state=1)\n"
             "fs = build_features(pf.transactions, pf.customers, as_of=pf.as_of)\n"
             "buyers = fs.frame[~fs.frame['is_prospect']]\n"
             "X = make_preprocessor(fs.spec, buyers).fit_transform(buyers)\nX.shape"),
        code("sel = select_k(X, k_range=range(2, 9), algorithms=['kmeans', 'gmm'], "
             "covariance_types=['diag'], n_stability=3, progress=False, random_state=0)\n"
             "print(sel.recommended)\nprint(sel.rationale)"),
        code("fig = plt.figure(figsize=(13, 7))\nplotting.plot_k_selection(sel, fig)\nplt.show()"),
        code("seg = Segmenter(**{**sel.recommended['params'], 'random_state': 0}).fit(X)\n"
             "val = validate_segments(seg, X, n_resamples=5, random_state=0)\nval.to_dict()['overall']"),
        code("fig, ax = plt.subplots(figsize=(7, 5))\n"
             "plotting.plot_silhouette(val, ax, labels=seg.labels_)\nplt.show()"),
    ],
    "04_score_new_customers": [
        md("# 04 · Scoring new customers with a saved model, drift and alerts\n"
           "Train as of one date, save, load the model as someone else would next month, score "
           "a new batch, and check drift and per-customer alerts."),
        code("import tempfile\nfrom pathlib import Path\n\nimport matplotlib.pyplot as plt\n\n"
             "from segml import plotting\nfrom segml.cluster import Segmenter\n"
             "from segml.datasets import make_portfolio\n"
             "from segml.features import build_features, make_preprocessor\n"
             "from segml.monitoring import alerts_from_transactions, drift_report\n"
             "from segml.persistence import SegmentModel, load_model, save_model\n"
             "from segml.scoring import score, score_one\n\n"
             "WORK = Path(tempfile.mkdtemp(prefix='segml-nb04-'))\n"
             "pf = make_portfolio(2000, random_state=2)"),
        code("train = build_features(pf.transactions, pf.customers, as_of='2023-12-31')\n"
             "buyers = train.frame[~train.frame['is_prospect']]\n"
             "seg = Segmenter(n_clusters=5, preprocessor=make_preprocessor(train.spec, buyers), "
             "order_by='monetary', random_state=0).fit(buyers)\n"
             "path = save_model(SegmentModel.from_training(seg, buyers, name='nb04', "
             "feature_set=train), root=WORK)\npath"),
        code("model = load_model(path)  # sha256 checked before unpickling\n"
             "res = score(model, pf.transactions, pf.customers, as_of='2024-12-31')\n"
             "print(res.report)\nres.frame.head()"),
        code("one = res.frame.iloc[0]['customer_id']\n"
             "new = build_features(pf.transactions, pf.customers, as_of='2024-12-31', "
             "spec=model.feature_spec, state=model.feature_state).frame\n"
             "score_one(model, new.loc[one].to_dict())"),
        code("drift = drift_report(model, new[~new['is_prospect']])\n"
             "fig, ax = plt.subplots(figsize=(8, 5))\nplotting.plot_drift(drift, ax)\nplt.show()\n"
             "drift.segments"),
        code("alerts = alerts_from_transactions(pf.transactions, pf.customers, as_of='2024-12-31')\n"
             "alerts['alert'].value_counts()"),
    ],
    "05_clusters_vs_rules": [
        md("# 05 · Clusters vs rule segments\n"
           "What does clustering tell me that my RFM / ABC rules do not? CDNOW as of 1998-06-30 "
           "(falls back to the demo portfolio when the file is absent)."),
        code("from pathlib import Path\n\nimport matplotlib.pyplot as plt\n\n"
             "from segml import plotting\nfrom segml.cluster import Segmenter\n"
             "from segml.datasets import make_portfolio\n"
             "from segml.features import build_features, make_preprocessor\n"
             "from segml.io import load_cdnow, shared_data_path\n"
             "from segml.rules import builtin_segmenter, compare_segmentations\n\n"
             "try:\n    DATA_PATH = shared_data_path('CDNOW_master.txt')\n"
             "except OSError:\n    DATA_PATH = Path('CDNOW_master.txt')"),
        code("if DATA_PATH.exists():\n    ds = load_cdnow(DATA_PATH)\n"
             "    fs = build_features(ds.transactions, ds.customers, as_of='1998-06-30')\n"
             "else:\n    pf = make_portfolio(2000, random_state=0)\n"
             "    fs = build_features(pf.transactions, pf.customers, as_of=pf.as_of)\n"
             "frame = fs.frame[~fs.frame['is_prospect']]\n"
             "seg = Segmenter(n_clusters=5, preprocessor=make_preprocessor(fs.spec, frame), "
             "order_by='monetary', random_state=0).fit(frame)\n"
             "clusters = frame.index.to_series().map(dict(zip(frame.index, seg.labels_)))"),
        code("results = {}\nfor name in ['rfm_groups', 'abc']:\n"
             "    rules = builtin_segmenter(name).fit(frame).predict(frame)\n"
             "    results[name] = compare_segmentations(clusters, rules, frame, "
             "names=('clusters', name))\n"
             "    print(name, {k: round(v, 3) for k, v in results[name].scores.items()})\n"
             "print(results['rfm_groups'].summary())"),
        code("fig, ax = plt.subplots(figsize=(10, 4))\n"
             "plotting.plot_comparison(results['rfm_groups'], ax)\nplt.show()"),
    ],
    "07_backtest": [
        md("# 07 · Backtest: does the segmentation hold up on history?\n"
           "Segment the portfolio as of several past cutoffs (features use only rows up to "
           "each), then look at what customers did in the window after: cluster model vs rule "
           "sets vs two baselines (no segmentation, recency deciles) and a continuous score, on "
           "the same customers, with bootstrap intervals and a verdict."),
        code("import tempfile\nfrom pathlib import Path\n\nimport matplotlib.pyplot as plt\n"
             "import pandas as pd\n\n"
             "from segml.backtest import ClusterModel, backtest\n"
             "from segml.backtest import plot as btplot\n"
             "from segml.backtest.report import write_backtest\n"
             "from segml.datasets import make_portfolio\nfrom segml.rules import RuleSegmenter\n\n"
             "pf = make_portfolio(1500, n_segments=5, random_state=0)\npf.summary()"),
        md("A predictor is any object with `fit(transactions, customers, as_of)` and "
           "`predict(transactions, customers, as_of) -> Series` (higher = more value); the "
           "backtest only ever passes rows up to the cutoff. `segml.value.ForwardValuePredictor` "
           "follows the same protocol."),
        code("class RecentSpend:\n"
             "    def fit(self, transactions, customers, as_of):\n        return self\n\n"
             "    def predict(self, transactions, customers, as_of):\n"
             "        recent = transactions[transactions['timestamp'] > pd.Timestamp(as_of) "
             "- pd.Timedelta(days=180)]\n"
             "        return recent.groupby('customer_id')['amount'].sum()\n\n"
             "big_spenders = RuleSegmenter([('top_quartile', "
             "'monetary >= quantile(monetary, 0.75)')], 'rest')\n"
             "res = backtest(pf.transactions, pf.customers, cutoffs='quarterly', "
             "start='2024-03-31', end='2024-09-30', horizon='3M',\n"
             "               segmenters={'clusters': ClusterModel(k=5), 'rfm_groups': "
             "'rfm_groups', 'abc': 'abc', 'big_spenders': big_spenders},\n"
             "               predictors={'recent_spend': RecentSpend()}, n_boot=100, "
             "random_state=0)\nprint(res.summary())"),
        code("res.table('per_cutoff')"),
        code("res.stability.round({'ari': 3, 'psi': 3, 'centroid_drift': 3})"),
        code("fig, axes = plt.subplots(1, 2, figsize=(13, 4))\n"
             "btplot.plot_validity(res, 'auc_bought_again', ax=axes[0])\n"
             "btplot.plot_validity_over_time(res, 'eta2_log_revenue', ax=axes[1])\nplt.show()"),
        md("Where did each cluster's customers go between the first two cutoffs? "
           "(rows: segment at the earlier cutoff; row shares)"),
        code("fig, axes = plt.subplots(1, 2, figsize=(12, 4))\n"
             "btplot.plot_migration(res, 'clusters', 0, ax=axes[0])\n"
             "btplot.plot_segment_rates(res, 'rfm_groups', ax=axes[1])\nplt.show()"),
        code("out = write_backtest(res, Path(tempfile.mkdtemp(prefix='segml-nb07-')) / 'bt')\n"
             "sorted(p.name for p in out.iterdir())"),
    ],
}

for name, cells in NOTEBOOKS.items():
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, HERE / f"{name}.ipynb")
