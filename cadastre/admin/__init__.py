"""Administrative units: provinces, districts (old structure), communes, and succession."""
