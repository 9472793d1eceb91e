# SPDX-License-Identifier: MIT
"""Helpers for zonekeeper's system tests: run the real programs, the validators and
real DNS servers (NSD, Unbound) on loopback, and wait for events with bounded loops."""
