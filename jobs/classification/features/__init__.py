"""Per-customer features read from the relational record.

`individual_features` (`individual`) — one row per individual, every column a dimension reads
(amounts CNY, dates `YYYY-MM-DD` text, counts over the 12 months before `as_of`), computed by
DuckDB (`engine`) over Arrow extracts of the record (`extract`) from feature definitions
written once as SQL that also runs on Spark (`definitions`); `reference` gives the reference
date and the months. The groups below are the columns, in order; their per-range modules
(identity, household, aum, products, questionnaire, credit, transactions, ecosystem) are the
pieces of the old per-range build, which tests/benchmarks/baselines/per_range_features.py keeps
as the reference (the whole-record helpers among them — `monthly_aum`, `product_families`,
`ecosystem_counts` — still serve sync-graph, reports and tests):
  identity      customer_id, as_of, age, gender, occupation, region, is_pep, has_id_number,
                tenure_years (`products`)
  household     household_id, household_role (`identity`), household_size (1 without one),
                children — confirmed households only: a candidate (inferred, awaiting review)
                does not pool AUM yet
  aum           `aum:YYYY-MM` (last 12 months), aum (latest), `hh_aum:YYYY-MM` (household; own
                when no household), bal_deposit / bal_wealth_management / bal_fund / bal_insurance
  products      families (comma-joined, held now), max_risk_held, max_risk_bought (0 = none, 1..5 = R1..R5)
  questionnaire q_level (0 = none, 1..5), q_score, q_assessed_on, q_valid_until, q_professional
  credit        annual_income, credit_score (`identity`), salary_monthly, employed, controls_enterprise,
                linked_industries, loans_count, loans_A..loans_D, loans_outstanding, loan_monthly_payment,
                max_dpd, has_mortgage
  transactions  txn_count, txn_amount, cash_count, cash_amount, cross_border_count, high_risk_country_count,
                structuring_count, rapid_in_out_count, ch_mobile / ch_online / ch_branch / ch_atm / ch_pos,
                days_since_last_txn (NaN: none), txn_data (the record holds transactions at all)
  ecosystem     payroll_employer, controls, household_members, co_holders, supply_chain — the
                counts `GraphStore.ecosystem_features` answers, read here in SQL from the tables
                sync-graph projects, per range (loading a million-customer graph cost minutes)

`enterprise_features` (`enterprise`) — one row per enterprise: industry, size, registered_capital,
annual_revenue, loans_*, max_dpd, suppliers, buyers, employees, payroll_employees, controllers.
"""

from __future__ import annotations

from .aum import AUM_PREFIX, HH_AUM_PREFIX, aum_columns, current_aum, monthly_aum
from .ecosystem import ecosystem_counts
from .enterprise import enterprise_features
from .individual import individual_features, iter_individual_features
from .products import product_families
from .reference import reference_date
from .transactions import TRANSACTION_CHANNELS

__all__ = [
    "individual_features",
    "iter_individual_features",
    "enterprise_features",
    "reference_date",
    "monthly_aum",
    "current_aum",
    "product_families",
    "aum_columns",
    "ecosystem_counts",
    "AUM_PREFIX",
    "HH_AUM_PREFIX",
    "TRANSACTION_CHANNELS",
]
