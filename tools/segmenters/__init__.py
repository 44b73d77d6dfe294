"""pertouch.tools.segmenters"""
