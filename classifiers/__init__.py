"""Classifiers that give a customer message one of the six after-sales labels."""
