"""Credit-and-payment rails: protocol clients for Alipay and WeChat Pay (simulators in each ``sim/``)."""
