"""A simulated WeChat Pay API v3 with pay score (``chargegate simulate wechatpay``); not for production."""
