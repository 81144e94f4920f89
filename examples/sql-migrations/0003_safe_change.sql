-- The lock-safe way to write the additive part of 0002 (apply 0002 or 0003, not both).
-- The type change and the rename need the expand/contract phases of `expandcontract new`.
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN public_id uuid;
ALTER TABLE orders ALTER COLUMN public_id SET DEFAULT gen_random_uuid();
ALTER TABLE orders ADD CONSTRAINT orders_qty_positive CHECK (qty > 0) NOT VALID;
ALTER TABLE customers ADD COLUMN tier text NOT NULL DEFAULT 'standard';
-- CONCURRENTLY and VALIDATE each run outside any transaction block, one after the other.
CREATE INDEX CONCURRENTLY ix_orders_created ON orders (created_at);
ALTER TABLE orders VALIDATE CONSTRAINT orders_qty_positive;
-- Backfill in key-range batches, each committed on its own (repeat with the next range).
UPDATE orders SET public_id = gen_random_uuid() WHERE id > 0 AND id <= 1000 AND public_id IS NULL;
