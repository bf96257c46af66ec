"""Certificates of land-use rights and ownership of attached assets (Giấy chứng nhận, GCN)."""
