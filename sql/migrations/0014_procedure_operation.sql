-- The change operation a procedure's approval applies, by its name in the operations
-- catalogue (cadastre/changes/operations.py): data, so that a new procedure applying an
-- existing operation is one INSERT. NULL: the approval applies no change itself (the change
-- goes through /api/v1/changes, or the procedure changes no register). change_operation
-- (0009) stays what it was: the kind of register change the procedure causes, for reports.
-- The names allowed are the catalogue's operations whose parameters an approval carries.
ALTER TABLE procedure ADD COLUMN operation text CHECK (operation IN ('transfer',
    'inheritance', 'gift', 'mortgage', 'mortgage_release', 'injunction',
    'injunction_release'));

UPDATE procedure SET operation = change_operation
 WHERE change_operation IN ('transfer', 'inheritance', 'gift', 'mortgage', 'mortgage_release');
