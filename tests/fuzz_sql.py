"""PostgreSQL-style migration SQL for the fuzz test: every statement form of the locking
reference, and mutations of them (truncation, duplicated and dropped tokens, unbalanced
quotes, dollar quotes and parentheses, NUL, BOM, CRLF, deep nesting, huge identifiers).

Deterministic for a seed. Also an independent statement counter by psql's rules, written
apart from ``expandcontract.sql.postgres.split`` so that the two can check each other.
"""

from __future__ import annotations

import random
import re

FORMS = [
    "ALTER TABLE {t} ADD COLUMN {c} text",
    "ALTER TABLE {t} ADD COLUMN {c} integer DEFAULT 0",
    "ALTER TABLE {t} ADD COLUMN {c} uuid DEFAULT gen_random_uuid()",
    "ALTER TABLE {t} ADD COLUMN {c} integer GENERATED ALWAYS AS (id * 2) STORED",
    "ALTER TABLE {t} ADD COLUMN {c} bigint GENERATED ALWAYS AS IDENTITY",
    "ALTER TABLE {t} ADD COLUMN {c} text NOT NULL",
    "ALTER TABLE {t} ADD COLUMN {c} text UNIQUE",
    "ALTER TABLE {t} ADD COLUMN {c} bigint REFERENCES other (id)",
    "ALTER TABLE {t} DROP COLUMN {c}",
    "ALTER TABLE {t} RENAME COLUMN {c} TO {c}_new",
    "ALTER TABLE {t} RENAME TO {t}_new",
    "ALTER TABLE {t} ALTER COLUMN {c} TYPE bigint",
    "ALTER TABLE {t} ALTER COLUMN {c} TYPE varchar(320)",
    "ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL",
    "ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL",
    "ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT 'x'",
    "ALTER TABLE {t} ADD CONSTRAINT {c}_ck CHECK ({c} > 0)",
    "ALTER TABLE {t} ADD CONSTRAINT {c}_ck CHECK ({c} IS NOT NULL) NOT VALID",
    "ALTER TABLE {t} ADD CONSTRAINT {c}_fk FOREIGN KEY ({c}) REFERENCES other (id)",
    "ALTER TABLE {t} ADD CONSTRAINT {c}_fk FOREIGN KEY ({c}) REFERENCES other (id) NOT VALID",
    "ALTER TABLE {t} ADD CONSTRAINT {c}_key UNIQUE ({c})",
    "ALTER TABLE {t} ADD CONSTRAINT {c}_key UNIQUE USING INDEX ix_{c}",
    "ALTER TABLE {t} ADD CONSTRAINT {c}_ex EXCLUDE USING gist ({c} WITH &&)",
    "ALTER TABLE {t} VALIDATE CONSTRAINT {c}_fk",
    "CREATE INDEX ix_{c} ON {t} ({c})",
    "CREATE UNIQUE INDEX CONCURRENTLY ix_{c} ON {t} ({c}) WHERE {c} IS NOT NULL",
    "DROP INDEX ix_{c}",
    "DROP INDEX CONCURRENTLY IF EXISTS ix_{c}",
    "REINDEX TABLE {t}",
    "REINDEX INDEX CONCURRENTLY ix_{c}",
    "CREATE TRIGGER tg_{c} BEFORE UPDATE ON {t} FOR EACH ROW EXECUTE FUNCTION f()",
    "DROP TRIGGER tg_{c} ON {t}",
    "ALTER TABLE {t} DETACH PARTITION {t}_2020",
    "ALTER TABLE {t} DETACH PARTITION {t}_2020 CONCURRENTLY",
    "ALTER TABLE {t} ATTACH PARTITION {t}_2021 FOR VALUES FROM (1) TO (100)",
    "ALTER TABLE {t} SET LOGGED",
    "ALTER TABLE {t} SET TABLESPACE fast",
    "VACUUM FULL {t}",
    "CLUSTER {t} USING ix_{c}",
    "REFRESH MATERIALIZED VIEW mv_{c}",
    "TRUNCATE {t}",
    "DROP TABLE {t}",
    "DROP SCHEMA s_{c} CASCADE",
    "LOCK TABLE {t} IN ACCESS EXCLUSIVE MODE",
    "UPDATE {t} SET {c} = 1",
    "DELETE FROM {t}",
    "UPDATE {t} SET {c} = 1 WHERE id BETWEEN 1 AND 1000",
    "CREATE TABLE {t}_x (id bigint PRIMARY KEY, {c} text NOT NULL)",
    "SET lock_timeout = '2s'",
    "BEGIN",
    "COMMIT",
    "INSERT INTO {t} ({c}) VALUES ('it''s')",
    "DO $$ BEGIN PERFORM 1; END $$",
    "CREATE FUNCTION f_{c}() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 'begin'; END",
    "CREATE OR REPLACE FUNCTION g_{c}() RETURNS trigger LANGUAGE plpgsql AS $body$ BEGIN NEW.x := ';'; RETURN NEW; END $body$",
    "COMMENT ON COLUMN {t}.{c} IS 'a; b'",
    'ALTER TABLE "Mixed ""Case""" ADD COLUMN "{c}" text',
]
# the first word of every form whose statement some rule can judge
JUDGED = {
    "ALTER",
    "CREATE",
    "DROP",
    "REINDEX",
    "VACUUM",
    "CLUSTER",
    "REFRESH",
    "TRUNCATE",
    "LOCK",
    "UPDATE",
    "DELETE",
}

NAMES = ["users", "orders", "public.events", "billing.invoices", '"OrderNotes"', "t"]
COLUMNS = ["email", "amount", "c1", '"user"', "created_at"]


def statement(rng: random.Random) -> str:
    form = rng.choice(FORMS)
    return form.format(t=rng.choice(NAMES), c=rng.choice(COLUMNS).strip('"'))


def script(rng: random.Random, statements: int) -> str:
    return "".join(f"{statement(rng)};\n" for _ in range(statements))


def _tokens(text: str) -> list[str]:
    return re.findall(r"\s+|\w+|'[^']*'|\"[^\"]*\"|\$\w*\$|.", text)


def mutate(rng: random.Random, text: str) -> str:
    """One random mutation of ``text``."""
    kind = rng.randrange(12)
    tokens = _tokens(text)
    if kind == 0 and text:  # truncation
        return text[: rng.randrange(len(text))]
    if kind == 1 and tokens:  # a duplicated token
        i = rng.randrange(len(tokens))
        return "".join(tokens[: i + 1] + tokens[i:])
    if kind == 2 and tokens:  # a dropped token
        i = rng.randrange(len(tokens))
        return "".join(tokens[:i] + tokens[i + 1 :])
    if kind == 3:  # an unbalanced quote of some kind
        i = rng.randrange(len(text) + 1)
        return text[:i] + rng.choice(["'", '"', "$$", "$tag$", "/*", "E'\\'"]) + text[i:]
    if kind == 4:  # unbalanced parentheses
        i = rng.randrange(len(text) + 1)
        return text[:i] + rng.choice(["(", ")", "((", "))"]) + text[i:]
    if kind == 5:  # NUL
        i = rng.randrange(len(text) + 1)
        return text[:i] + "\x00" + text[i:]
    if kind == 6:  # BOM
        return "\ufeff" + text
    if kind == 7:  # CRLF
        return text.replace("\n", "\r\n")
    if kind == 8:  # deep nesting
        depth = rng.choice([50, 400, 2000])
        return text + "SELECT " + "(" * depth + "1" + ")" * depth + ";\n"
    if kind == 9:  # a huge identifier
        return text + f"ALTER TABLE {'x' * rng.choice([64, 5000, 100_000])} ADD COLUMN c int;\n"
    if kind == 10:  # psql meta-commands
        return text.replace(";\n", rng.choice([" \\gset\n", ";\n\\echo hi\n", " \\g\n"]), 1)
    return text + rng.choice(["SELECT $1,$2;\n", "SELECT begin atomic FROM t;\n", "\\\n"])


def psql_statements(text: str) -> int:
    """Statements by psql's rules, counted independently: semicolons outside quotes, dollar
    quotes, comments and BEGIN ATOMIC bodies; \\g-style meta-commands end one; other
    backslash commands are not statements. (psql also waits for parentheses to close; a
    linter reads on, so that one unbalanced parenthesis does not hide the rest.)"""
    count, i, n, atomic, pending = 0, 0, len(text), 0, False
    words: list[str] = []
    while i < n:
        ch = text[i]
        if text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j == -1 else j
            continue
        if text.startswith("/*", i):
            level, i = 1, i + 2
            while i < n and level:
                if text.startswith("/*", i):
                    level, i = level + 1, i + 2
                elif text.startswith("*/", i):
                    level, i = level - 1, i + 2
                else:
                    i += 1
            pending = pending or level > 0  # a comment is no statement; one never closed
            continue  # hides the rest of the file, which the linter reports as unread
        if ch in "'\"":
            escapes = (  # E'...': only where the E starts a word of its own
                ch == "'"
                and i > 0
                and text[i - 1] in "eE"
                and (i < 2 or not (text[i - 2].isalnum() or text[i - 2] in "_$"))
            )
            j = i + 1
            while j < n:
                if text[j] == ch:
                    if text.startswith(ch * 2, j):
                        j += 2
                        continue
                    break
                if escapes and text[j] == "\\":
                    j += 1
                j += 1
            i, pending = j + 1, True
            words.append("")
            continue
        m = re.match(r"\$([A-Za-z_]\w*)?\$", text[i : i + 200]) if ch == "$" else None
        if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] in "_$")):
            close = text.find(m.group(0), i + len(m.group(0)))
            i, pending = (n if close == -1 else close + len(m.group(0))), True
            continue
        if ch == "\\":
            line_end = text.find("\n", i)
            line_end = n if line_end == -1 else line_end
            command = text[i + 1 : line_end].split()[0] if text[i + 1 : line_end].split() else ""
            if pending and (command.startswith("g") or command == "crosstabview"):
                count, pending, words, atomic = count + 1, False, [], 0
            i = line_end
            continue
        if ch.isalpha() or ch == "_":
            j = i
            while j < n and (text[j].isalnum() or text[j] in "_$"):
                j += 1
            word = text[i:j].upper()
            if atomic:
                atomic += word in ("BEGIN", "CASE")
                atomic -= word == "END"
            elif (
                word == "ATOMIC"
                and words[-1:] == ["BEGIN"]
                and words[:1] == ["CREATE"]
                and ("FUNCTION" in words[:4] or "PROCEDURE" in words[:4])
            ):
                atomic = 1
            words.append(word)
            i, pending = j, True
            continue
        if ch == ";" and not atomic:
            count += pending
            pending, words = False, []
            i += 1
            continue
        if not ch.isspace() and ch not in "\ufeff\x00":
            pending = True
        i += 1
    return count + pending
