"""WeChat Pay API v3: signatures, pay-score service orders, notifications; simulator in ``sim/``."""
