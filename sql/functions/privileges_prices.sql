-- Land price tables as the API's login may touch them: it reads them (privileges.sql grants
-- SELECT on every table), never writes them; `cadastre reference land-prices load` (a
-- trusted session of the owner) does. Re-applied on every upgrade after privileges.sql.

DROP TRIGGER IF EXISTS write_rule ON land_price_table;
CREATE TRIGGER write_rule BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON land_price_table
    FOR EACH STATEMENT EXECUTE FUNCTION write_rule();
DROP TRIGGER IF EXISTS write_rule ON land_price;
CREATE TRIGGER write_rule BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON land_price
    FOR EACH STATEMENT EXECUTE FUNCTION write_rule();
