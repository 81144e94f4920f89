-- 0002 and 0003 are two ways to write one change: the one most teams write first, on tables that now hold production data.
-- Every statement below locks or breaks the running application: `expandcontract lint` says how.
ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();
ALTER TABLE orders ALTER COLUMN qty TYPE bigint;
CREATE INDEX ix_orders_created ON orders (created_at);
ALTER TABLE orders ADD CONSTRAINT orders_qty_positive CHECK (qty > 0);
ALTER TABLE customers ADD COLUMN tier text NOT NULL;
UPDATE customers SET email = lower(email);
ALTER TABLE customers RENAME COLUMN email TO email_address;
