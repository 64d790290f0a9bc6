"""A simulated Alipay open platform (``chargegate simulate alipay``); not used in production."""
