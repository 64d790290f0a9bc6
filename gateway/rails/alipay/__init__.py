"""Alipay open platform: RSA2 signing, Zhima pay-after-use, ``alipay.trade.*``; simulator in ``sim/``."""
