"""Write the notebooks from these cell lists (outputs stripped).

Run: python notebooks/_build.py [NAME ...]   (no name: every notebook; cell ids are new each time,
so name the ones you changed to leave the others as they are)
"""

import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell

NOTEBOOKS = {
    "01_quickstart": [
        md("# 01 · Quickstart: the demo portfolio end to end\n"
           "One import and a few calls: generate the synthetic portfolio, segment it as of a "
           "date (features, choice of k, fit, validation, named profiles, comparison with the "
           "rule segments), plot, save the model and score with the saved model. "
           "`segml.segment` runs the same analysis as `segml run`."),
        code("import tempfile\nfrom pathlib import Path\n\nimport matplotlib.pyplot as plt\n\n"
             "import segml\n\nWORK = Path(tempfile.mkdtemp(prefix='segml-nb01-'))"),
        code("tx, customers = segml.demo_data(2000, random_state=0)\n"
             "print(len(tx), 'transactions,', len(customers), 'customers')\ntx.head()"),
        code("seg = segml.segment(tx, customers, as_of='2024-12-31', k_range=(3, 7), "
             "algorithms=['kmeans'], n_stability=3, random_state=0)\n"
             "print(seg.selection.rationale)\nseg.summary()"),
        code("seg.plot_k_selection(plt.figure(figsize=(13, 7), layout='constrained'))\nplt.show()"),
        code("# the 15 features that set the segments apart most (largest |z| of any segment):\n"
             "# all ~60 in one heatmap are too many to read\n"
             "z = seg.profiles.lift.pivot(index='segment', columns='feature', values='z')\n"
             "top = list(z.abs().max().nlargest(15).index)\n"
             "fig, ax = plt.subplots(figsize=(12, 4.5))\nseg.plot_profiles(ax, features=top)\n"
             "plt.tight_layout()\nplt.show()"),
        code("cmp = seg.compare_rules('rfm_groups')\n"
             "print({k: round(v, 3) for k, v in cmp.scores.items()})\n"
             "fig, ax = plt.subplots(figsize=(10, 4))\nseg.plot_comparison('rfm_groups', ax)\n"
             "plt.show()"),
        code("path = seg.save(WORK / 'models' / 'quickstart')\n"
             "model = segml.load_model(path)\n"
             "scores = segml.score(model, tx, customers, as_of='2024-12-31').frame\n"
             "scores['segment_name'].value_counts()"),
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
        code("fig = plt.figure(figsize=(13, 7), layout='constrained')\nplotting.plot_k_selection(sel, fig)\nplt.show()"),
        code("seg = Segmenter(**{**sel.recommended['params'], 'random_state': 0}).fit(X)\n"
             "val = validate_segments(seg, X, n_resamples=5, random_state=0)\nval.to_dict()['overall']"),
        code("from segml.cluster import profile_segments\n\n"
             "# name the segments from their profiles, so the chart says who they are\n"
             "names = profile_segments(buyers, seg.labels_).names\n"
             "fig, ax = plt.subplots(figsize=(8, 5))\n"
             "plotting.plot_silhouette(val, ax, labels=seg.labels_, names=names)\n"
             "plt.tight_layout()\nplt.show()\nnames"),
    ],
    "04_score_new_customers": [
        md("# 04 · Scoring new customers with a saved model, drift and alerts\n"
           "Train as of one date, save, load the model as someone else would next month, score "
           "a new batch, and check drift and per-customer alerts."),
        code("import dataclasses\nimport tempfile\nfrom pathlib import Path\n\n"
             "import matplotlib.pyplot as plt\n\n"
             "from segml import plotting\nfrom segml.cluster import Segmenter, profile_segments\n"
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
             "# names (and roles, actions) from the profiles, so drift and scores read by name\n"
             "prof = profile_segments(buyers, seg.labels_)\n"
             "path = save_model(SegmentModel.from_training(seg, buyers, name='nb04', "
             "feature_set=train, profiles=prof), root=WORK)\npath"),
        code("model = load_model(path)  # sha256 checked before unpickling\n"
             "res = score(model, pf.transactions, pf.customers, as_of='2024-12-31')\n"
             "print(res.report)\nres.frame.head()"),
        code("one = res.frame.iloc[0]['customer_id']\n"
             "new = build_features(pf.transactions, pf.customers, as_of='2024-12-31', "
             "spec=model.feature_spec, state=model.feature_state).frame\n"
             "score_one(model, new.loc[one].to_dict())"),
        code("drift = drift_report(model, new[~new['is_prospect']])\n"
             "# the 15 features that drifted most (the report is sorted worst first); the rest\n"
             "# are listed with their PSI in drift.features\n"
             "worst = dataclasses.replace(drift, features=drift.features.head(15))\n"
             "fig, ax = plt.subplots(figsize=(8, 6))\nplotting.plot_drift(worst, ax)\n"
             "plt.tight_layout()\nplt.show()\n"
             "print(len(drift.features) - 15, 'more features, largest PSI among them:',\n"
             "      round(drift.features['psi'].iloc[15:].max(), 3))\n"
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
        code("from segml.cluster import profile_segments\n\n"
             "# name the clusters from their profiles, so the chart says who they are\n"
             "names = profile_segments(frame, clusters).names\n"
             "fig, ax = plt.subplots(figsize=(11, 4.5))\n"
             "plotting.plot_comparison(results['rfm_groups'], ax, names=names)\n"
             "plt.tight_layout()\nplt.show()\nnames"),
    ],
    "06_forward_value": [
        md("# 06 · Forward value on CDNOW: BG/NBD, Gamma-Gamma, CLV and room to grow\n"
           "The CDNOW sample (2,357 customers who first bought in Q1 1997), calibration "
           "1997-01-01 → 1997-09-30 (39 weeks), holdout 1997-10-01 → 1998-06-30 (39 weeks), "
           "time in weeks, one event per customer-day, the first purchase not a repeat "
           "(`../shared/data/DATASETS.md`). We fit the purchase and spend models, compare the "
           "parameters with the published ones, check the holdout, and use the models as "
           "features, as scores and as a backtest predictor."),
        code("import matplotlib.pyplot as plt\nimport pandas as pd\n\n"
             "from segml.features import FeatureBuilder, FeatureSpec\n"
             "from segml.io import load_cdnow, shared_data_path\n"
             "from segml.value import (BGNBD, ForwardValuePredictor, GammaGamma,\n"
             "                         calibration_holdout_table, forward_value,\n"
             "                         plot_calibration_holdout, rfm_summary)\n\n"
             "CAL_END, HOLD_END = '1997-09-30', '1998-06-30'\n"
             "ds = load_cdnow(shared_data_path('CDNOW_sample.txt'), sample=True)\n"
             "tx, cust = ds.transactions, ds.customers\n"
             "summary = rfm_summary(tx, CAL_END, time_unit='W', holdout_end=HOLD_END)\n"
             "print(len(summary), 'customers,', int((summary.x > 0).sum()), 'repeat buyers')\n"
             "summary.head()"),
        md("## Parameters vs the published values\n"
           "Fader, Hardie & Lee (2005): BG/NBD r = 0.243, α = 4.414, a = 0.793, b = 2.426, "
           "log-likelihood −9582.4; Gamma-Gamma on the 946 repeat buyers p = 6.25, q = 3.74, "
           "γ = 15.44."),
        code("bg = BGNBD().fit(summary)\ngg = GammaGamma().fit(summary)\n"
             "published = {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426, "
             "'log-likelihood': -9582.4, 'p': 6.25, 'q': 3.74, 'gamma': 15.44}\n"
             "fitted = {'r': bg.params_.r, 'alpha': bg.params_.alpha, 'a': bg.params_.a, "
             "'b': bg.params_.b, 'log-likelihood': bg.log_likelihood_, 'p': gg.params_.p, "
             "'q': gg.params_.q, 'gamma': gg.params_.gamma}\n"
             "table = pd.DataFrame({'published': published, 'segml': fitted})\n"
             "table['relative difference'] = table['segml'] / table['published'] - 1\n"
             "print('Gamma-Gamma fitted on', gg.n_customers_, 'repeat buyers')\ntable.round(4)"),
        md("## Calibration / holdout check\n"
           "Mean purchases in the 39 holdout weeks, actual vs predicted, grouped by the number "
           "of repeat purchases in the calibration weeks (FHL 2005, Figure 4)."),
        code("check = calibration_holdout_table(bg, summary, max_frequency=7)\n"
             "print('total holdout purchases: actual', int(check.actual_total.sum()), "
             "'predicted', round(check.predicted_total.sum(), 1))\ncheck.round(3)"),
        code("ax = plot_calibration_holdout(check)\nplt.show()"),
        md("## The Gamma-Gamma independence assumption\n"
           "Spend per purchase is assumed independent of purchase frequency. The check gives "
           "Pearson's r with a 95 % interval and Spearman's ρ on the repeat buyers; the fit "
           "warns above |0.3|."),
        code("gg.independence_"),
        md("## Forward value per customer\n"
           "P(alive), expected purchases over 52 weeks, expected spend per purchase and a "
           "CLV discounted at 10 % a year (weekly rate), margin 30 %."),
        code("weekly = 1.10 ** (7 / 365.25) - 1\n"
             "fv = forward_value(bg, gg, summary, horizon=52, discount_rate=weekly, margin=0.3)\n"
             "fv.describe().round(3)"),
        md("## As a feature family\n"
           "`FeatureSpec.with_forward` switches the family on: the builder fits both models at "
           "its `fit` date and applies the frozen parameters at any later date. "
           "`forward_growth_potential` = expected purchases × the gap between the peers' "
           "expected spend per purchase and the customer's: room to grow for customers who "
           "are expected to keep buying."),
        code("base = FeatureBuilder().fit(tx, cust, as_of=CAL_END).state_.columns\n"
             "spec = FeatureSpec.default(base).with_forward(horizon=52, margin=0.3)\n"
             "fb = FeatureBuilder(spec).fit(tx, cust, as_of=CAL_END)\n"
             "later = fb.transform(tx, cust, as_of=HOLD_END)  # same parameters, no refit\n"
             "print(fb.state_.forward.purchases)\n"
             "later.frame[['recency_days', 'monetary', 'growth_potential', 'p_alive', "
             "'expected_purchases', 'expected_spend', 'forward_clv', "
             "'forward_growth_potential']].head()"),
        md("### Old vs new growth potential\n"
           "Share of lapsed or $0 customers (no spend, or no purchase in the last 26 weeks) "
           "in each score's top decile."),
        code("f = fb.transform(tx, cust, as_of=CAL_END).frame\n"
             "lapsed = (f.monetary == 0) | (f.recency_days > 182)\n"
             "rows = {}\nfor col in ['growth_potential', 'forward_growth_potential']:\n"
             "    top = f[col].rank(method='first', ascending=False) <= 0.1 * len(f)\n"
             "    rows[col] = {'top-decile share lapsed/$0': round((top & lapsed).mean()\n"
             "                                                     / top.mean(), 3),\n"
             "                 '$0 in top decile': f'{(top & (f.monetary == 0)).sum()} of '\n"
             "                                     f'{(f.monetary == 0).sum()}'}\n"
             "pd.DataFrame(rows).T"),
        md("## As a backtest predictor\n"
           "Fit at the calibration end, predict with frozen parameters; rank correlation with "
           "the holdout purchases."),
        code("pred = ForwardValuePredictor(target='purchases', horizon=39).fit(tx, None, CAL_END)\n"
             "scores = pred.predict(tx, None, CAL_END)\n"
             "actual = summary['x_holdout'].reindex(scores.index)\n"
             "print('Spearman rho (predicted vs actual holdout purchases):', "
             "round(scores.corr(actual, method='spearman'), 3))"),
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
        md("Where did each RFM group's customers go between the first two cutoffs? "
           "(rows: group at the earlier cutoff; row shares). The clusters are refitted at "
           "every cutoff, so their ids are not the same segments from one cutoff to the next; "
           "the rule groups keep their names, which makes their migration readable."),
        code("fig, axes = plt.subplots(1, 2, figsize=(13, 4.5))\n"
             "btplot.plot_migration(res, 'rfm_groups', 0, ax=axes[0])\n"
             "btplot.plot_segment_rates(res, 'rfm_groups', ax=axes[1])\nplt.tight_layout()\nplt.show()"),
        code("out = write_backtest(res, Path(tempfile.mkdtemp(prefix='segml-nb07-')) / 'bt')\n"
             "sorted(p.name for p in out.iterdir())"),
    ],
    "08_data_to_plan": [
        md("# 08 · From a raw file to a segment plan\n"
           "The CDNOW sample (`CDNOW_sample.txt`, 2,357 customers who first bought in Q1 1997, "
           "purchases to 1998-06-30; `../shared/data/DATASETS.md`) taken from the raw text file "
           "to what a CRM team acts on: validated tables, named segments as of a date with a "
           "role and a playbook action each, a check against rule segments (built-in and "
           "our own), a backtest on history, and a pilot list with a control group."),
        code("import tempfile\nfrom pathlib import Path\n\nimport matplotlib.pyplot as plt\n"
             "import pandas as pd\n\nimport segml\n"
             "from segml.backtest import ClusterModel, backtest\n"
             "from segml.io import load_cdnow, shared_data_path\n"
             "from segml.pilot import pilot_sample\n"
             "from segml.rules import RuleSegmenter, compare_segmentations\n\n"
             "WORK = Path(tempfile.mkdtemp(prefix='segml-nb08-'))\n"
             "AS_OF = '1998-03-31'"),
        md("## 1 · Raw file → validated tables\n"
           "`load_cdnow` reads the sample's five-column layout and validates it against the "
           "data contract. The quality report counts what was flagged or dropped: nothing is "
           "dropped silently."),
        code("ds = load_cdnow(shared_data_path('CDNOW_sample.txt'), sample=True)\n"
             "tx, cust = ds.transactions, ds.customers\n"
             "for table, report in ds.reports.items():\n    print(report, '\\n')\n"
             "print(f\"{len(tx):,} transactions of {tx['customer_id'].nunique():,} customers, \"\n"
             "      f\"{tx['timestamp'].min().date()} to {tx['timestamp'].max().date()}\")\n"
             "tx.head()"),
        md("## 2 · Segments as of a date\n"
           "Features use only purchases on or before `AS_OF`. Among the reproducible k, segml "
           "takes the largest whose segments are separated from their neighbours (a dip test), "
           "else the gap statistic decides, and k = 1 is a possible answer: "
           "**\"no clear segments\"**, i.e. the customers form one continuum rather than "
           "groups. Then segml does not invent clusters; it puts the buyers in the **RFM "
           "groups** (the `rfm_groups` rule set: champions, loyal, at risk, ...) and labels "
           "them as such (`selection.settings['partition'] == 'rfm_groups'`; "
           "`no_segments='value_tiers'` gives value tiers instead). To force a clustering "
           "anyway pass `k=K` to `segml.segment` (`segml run --k K`); the verdict note then "
           "says that no criterion supports that k. (A short sweep here: k-means only, "
           "3 stability refits, to keep the notebook fast.)"),
        code("seg = segml.segment(tx, cust, as_of=AS_OF, k_range=(1, 6), algorithms=['kmeans'],\n"
             "                    n_stability=3, random_state=0)\n"
             "print('verdict:', seg.selection.verdict)\n"
             "print('partition:', seg.selection.settings.get('partition', 'clusters'))\n"
             "print(seg.selection.settings.get('verdict_note'))"),
        md("### The segment plan\n"
           "One row per segment: its name, size, share of customers and of revenue (to "
           "`AS_OF`), its role in the portfolio and the playbook's action. This is the table "
           "to agree on with the CRM team."),
        code("plan = seg.summary().assign(action=seg.profiles.actions)\n"
             "with pd.option_context('display.max_colwidth', None):\n    display(plan)"),
        code("fig, ax = plt.subplots(figsize=(9, 4.2))\nseg.plot_shares(ax)\n"
             "ax.set_title(f'CDNOW sample as of {AS_OF}: share of "
             "customers and of revenue')\nplt.show()"),
        md("## 3 · Against rule segments\n"
           "The built-in `rfm_groups` (RFM score groups: champions, loyal, at risk, ...) and "
           "a small rule set of our own, written in segml's rule language (first match wins, "
           "`quantile(...)` thresholds frozen at fit). ARI near 1: the two say the same; near "
           "0: they cut the customers differently."),
        code("buyers = seg.run.features.frame.loc[seg.labels.index]\n"
             "named = seg.labels.map(seg.names)\n"
             "house_rules = RuleSegmenter([\n"
             "    ('big recent spenders', 'monetary >= quantile(monetary, 0.8) "
             "and recency_days <= 120'),\n"
             "    ('big lapsed spenders', 'monetary >= quantile(monetary, 0.8)'),\n"
             "    ('recent repeat buyers', 'recency_days <= 120 and frequency >= 2'),\n"
             "    ('one-off buyers', 'frequency == 1'),\n"
             "], default='occasional buyers').fit(buyers)\n"
             "house = pd.Series(house_rules.predict(buyers), index=buyers.index)\n"
             "print(house_rules.thresholds_)\nhouse.value_counts()"),
        code("comparisons = {'rfm_groups': seg.compare_rules('rfm_groups'),\n"
             "               'house rules': compare_segmentations(named, house, buyers,\n"
             "                                                    names=('segments', "
             "'house rules'))}\n"
             "pd.DataFrame({k: c.scores for k, c in comparisons.items()}).T.round(3)"),
        code("print(comparisons['house rules'].summary())"),
        md("## 4 · Backtest: would these segments have told us who buys next quarter?\n"
           "Two quarter-end cutoffs; at each, the segments are refitted on the purchases up "
           "to the cutoff (`clusters` is what `segml.segment` gives with the same short "
           "sweep, RFM groups included) and judged on the next 3 months, next to the "
           "`rfm_groups` rules and two baselines (no segmentation, recency deciles). "
           "`n_boot=50` keeps it fast; use the default 200 for a decision."),
        code("fast = {'algorithms': ['kmeans'], 'n_stability': 3, 'k_max': 6}\n"
             "res = backtest(tx, cust, cutoffs='quarterly', start='1997-09-30', "
             "end='1997-12-31',\n"
             "               horizon='3M', segmenters={'clusters': ClusterModel("
             "segmentation=fast),\n"
             "                                         'rfm_groups': 'rfm_groups'},\n"
             "               n_boot=50, random_state=0)\nprint(res.summary())"),
        md("## 5 · Pilot list with a control group\n"
           "Before rolling the actions out, try them on a sample: 20 % of every segment, half "
           "of it kept as control (no action), with a balance check on spend and recency. "
           "The CSV (customer, segment, arm, action) is what the CRM imports; "
           "`segml.pilot.pilot_readout` compares the arms after the pilot window."),
        code("segments = seg.segments()\n"
             "clustered = segments[segments['segment_id'] >= 0]  # not the rule groups "
             "(e.g. $0 buyers)\n"
             "print(len(segments) - len(clustered), 'customers outside the segments left out:',\n"
             "      segments.loc[segments['segment_id'] < 0, 'segment_name'].value_counts()"
             ".to_dict())\n"
             "# a segment needs about 10 customers for a treatment and a control arm at 20%\n"
             "sizes = clustered['segment_name'].value_counts()\n"
             "small = sizes[sizes < 10]\n"
             "print('segments too small for a pilot, left out:', small.to_dict())\n"
             "clustered = clustered[~clustered['segment_name'].isin(small.index)]\n"
             "pilot = pilot_sample(clustered[['customer_id', 'segment_name']], fraction=0.2,\n"
             "                     control_share=0.5, covariates=buyers[['monetary', "
             "'recency_days']],\n"
             "                     random_state=0)\nprint(pilot.summary())"),
        code("actions = clustered.drop_duplicates('segment_name').set_index('segment_name')"
             "['action']\n"
             "crm = pilot.frame.assign(action=pilot.frame['segment'].map(actions))\n"
             "path = WORK / 'pilot_list.csv'\ncrm.to_csv(path, index=False)\n"
             "print(path.name, len(crm), 'rows')\npd.read_csv(path, dtype={'customer_id': str})"
             ".head()"),
    ],
}

for name, cells in NOTEBOOKS.items():
    if sys.argv[1:] and name not in sys.argv[1:]:
        continue
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, HERE / f"{name}.ipynb")
