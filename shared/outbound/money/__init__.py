"""The organization's money: the balance ledger as the API shows it, and reconciliation."""
