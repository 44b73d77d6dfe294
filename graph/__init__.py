"""pertouch.graph"""
