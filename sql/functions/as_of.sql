-- "As of" readers: the state of the register at an instant. CREATE OR REPLACE, re-applied by
-- every `cadastre db upgrade`.

CREATE OR REPLACE FUNCTION parcels_as_of(at timestamptz)
RETURNS SETOF parcel
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT * FROM parcel WHERE lifespan @> at
$$;

CREATE OR REPLACE FUNCTION land_rights_as_of(at timestamptz)
RETURNS SETOF land_right
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT * FROM land_right WHERE lifespan @> at
$$;

CREATE OR REPLACE FUNCTION restrictions_as_of(at timestamptz)
RETURNS SETOF restriction
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT * FROM restriction WHERE lifespan @> at
$$;
