"""What verify's seed reads to fill every table: columns with their types and how the
database fills them, foreign keys, CHECK constraints, constraints added NOT VALID.

Tables are named ``schema.name`` as the snapshot names them: never through ::regclass,
whose text form comes back quoted ("user", "OrderNotes") and whose input folds case.
"""

from __future__ import annotations

COLUMNS = """
SELECT n.nspname || '.' || c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
       a.attnotnull,
       a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '' AS filled_by_db,
       a.attgenerated <> '' AS generated,
       t.typtype = 'e' AS is_enum,
       (SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = a.atttypid
        ORDER BY e.enumsortorder LIMIT 1) AS first_label,
       a.atttypmod, t.typcategory,
       EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = a.attrelid AND i.indisunique
               AND a.attnum = ANY (i.indkey)) AS is_unique,
       a.attidentity = 'a' AS identity_always
FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname || '.' || c.relname = ANY (%(tables)s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

FOREIGN_KEYS = """
SELECT n.nspname || '.' || c.relname, a.attname, fn.nspname || '.' || fc.relname, fa.attname
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class fc ON fc.oid = con.confrelid JOIN pg_namespace fn ON fn.oid = fc.relnamespace
JOIN LATERAL unnest(con.conkey, con.confkey) AS k(col, fcol) ON true
JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.col
JOIN pg_attribute fa ON fa.attrelid = con.confrelid AND fa.attnum = k.fcol
WHERE con.contype = 'f' AND n.nspname || '.' || c.relname = ANY (%(tables)s)
"""

CHECKS = """
SELECT conname, pg_get_constraintdef(con.oid) FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE con.contype = 'c' AND n.nspname = %s AND c.relname = %s AND conname = %s
"""

# constraints added NOT VALID: PostgreSQL checks them on new rows only, until VALIDATE
NOT_VALID = """
SELECT n.nspname, c.relname, con.conname, con.contype, pg_get_expr(con.conbin, con.conrelid),
       fn.nspname, fc.relname,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i),
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE NOT con.convalidated AND con.contype IN ('c', 'f')
  AND n.nspname || '.' || c.relname = ANY (%(tables)s)
"""
