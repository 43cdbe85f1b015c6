"""Driving many machines: the Ansible playbook that ``torch-wizard export ansible`` writes."""
