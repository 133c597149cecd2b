"""``python -m cmooe_risk`` runs the CLI."""

from cmooe_risk.cli import main

main()
