"""pertouch.graph.nodes"""
