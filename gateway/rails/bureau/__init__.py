"""The generic credit bureau: who may charge first and pay later, and a credit rail of its own.

``provider`` is the bureau's port (it gives a score), ``http`` and ``cached`` implement and wrap it,
``policy`` turns a score and a driver's account into a decision (``decision``), ``check`` joins the
two for the mutations that spend money, ``rail`` puts the bureau behind the credit-rail port (the
bureau decides, the card collects), ``demo`` names the demo drivers, and ``sim`` is the bureau of
the demo and the tests (``chargegate simulate credit``).
"""
