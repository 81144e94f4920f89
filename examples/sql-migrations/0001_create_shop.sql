-- A new schema: everything here acts on tables created in this same file, so it is safe.
CREATE TABLE customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL
);
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL,
    qty integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);
CREATE INDEX ix_orders_customer ON orders (customer_id);
CREATE UNIQUE INDEX ux_customers_email ON customers (lower(email));
