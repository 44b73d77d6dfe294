"""pertouch.evals"""
