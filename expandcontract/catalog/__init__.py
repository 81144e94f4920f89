"""What the database holds, read from PostgreSQL's catalog: the only home of catalog SQL.

``probes``       small questions (does it exist, its type, valid, the key to walk by)
``inventory``    everything attached to a column, that a phased change must carry
``bookkeeping``  the tables expandcontract keeps in the user's database
"""
