"""Land-use type codes (mã loại đất): the versioned code list, the legacy code table, and the
rule that a new purpose uses a code in force."""
