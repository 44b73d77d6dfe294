"""pertouch.tools"""
