"""pertouch.memory"""
