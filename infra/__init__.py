"""The CDK app that deploys batchcall: resources from chalicelib/resources.py, the Chalice app on top."""
