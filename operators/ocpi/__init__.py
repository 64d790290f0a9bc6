"""OCPI 2.2.1 operators, with chargegate as the eMSP: adapter, receiver endpoints, tariff engine, simulator.

``build`` (in :mod:`operators.ocpi.adapter`) is the operator factory; :mod:`operators.ocpi.settings`
lists its config keys; :class:`operators.ocpi.sim.server.OcpiSimulator` is the CPO-side simulator.
"""
