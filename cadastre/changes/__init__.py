"""Change transactions (biến động) and the documents that prove them."""
