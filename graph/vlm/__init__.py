"""pertouch.graph.vlm"""
