"""(being ported)"""
