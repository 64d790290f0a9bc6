"""Credit: who may charge first and pay later (DESIGN §4).

``provider`` is the port (a credit bureau gives a score), ``http`` and ``cached`` implement and wrap
it, ``policy`` turns a score and a driver's account into a decision, ``check`` joins the two for
the mutations that spend money, and ``simulator`` is the credit bureau of the demo and the tests.
"""
