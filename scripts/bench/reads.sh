#!/usr/bin/env bash
# The read path against its ceiling. Starts BINARY (`rockstar`) on a throwaway data folder,
# seeds the data set of ../shared/docs/database.md straight into its database (10k
# accounts, 1k rocks: the built-in gallery and copies of it, 200k time-ordered statuses of
# which a fifth are replies, 50 follows each, 300k favourites) and a notification for every
# follow and favourite, then for each read measures, in turns in one run, at 1 and 4
# connections:
#   HTTP  wrk against the endpoint (JSON, auth, the server's own queries), and
#   SQL   pgbench running the plain reference query of database.md for the same page
#         (for notifications and followers, which it does not list, the same kind of query:
#         20 rows joined with the acting account and its rock),
# and prints HTTP/SQL: how close an endpoint comes to what PostgreSQL alone can serve.
# `/healthz` (no database) is timed too: the HTTP floor, the same for every endpoint.
#   Usage: scripts/bench/reads.sh BINARY [SECONDS]        Needs wrk and pgbench.
set -euo pipefail
bin=$(realpath "$1"); secs=${2:-10}; port=${BENCH_PORT:-18556}
source "$(dirname "$0")/serve.sh"
selfie="$root/../shared/data/pairs/human_001.jpg"
[ -f "$selfie" ] || { echo "no selfie at $selfie"; exit 1; }
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pg_bin/pgbench" ] || { echo "pgbench not found under /usr/lib/postgresql"; exit 1; }

start_server "$bin" "$port"
base="http://127.0.0.1:$port"
token=$(curl -s -F username=bench_reader -F "password=correct horse battery" -F consent=true \
    -F "photo=@$selfie" "$base/api/v1/accounts" \
    | python3 -c 'import sys, json; r = json.load(sys.stdin); print(r.get("token") or sys.exit(f"sign-up: {r}"))')

# The embedded cluster listens on a unix socket only; postmaster.pid names its folder.
pid_file=$(find "$work/data" -name postmaster.pid -path '*pgdata*' | head -1)
[ -n "$pid_file" ] || { echo "the embedded cluster's postmaster.pid was not found under $work/data"; exit 1; }
socket=$(sed -n 5p "$pid_file")
psql_() { "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$socket" -U "$1" -d rockstar "${@:2}"; }

echo "seeding (database.md's data set)..."
seed_started=$(date +%s)
psql_ postgres <<'SQL'
-- Bulk load without the per-row counter and key triggers; the counters are set after.
SET session_replication_role = replica;
-- database.md has 1k rocks: the built-in gallery and copies of it under new ids.
INSERT INTO rocks (source_key, name, photo_key, face_key, embedding, source)
SELECT 'bench:' || n, r.name || ' ' || n, r.photo_key, r.face_key, r.embedding, r.source
FROM generate_series(1, 1000 - (SELECT count(*) FROM rocks)) n
JOIN (SELECT *, row_number() OVER (ORDER BY id) - 1 AS k FROM rocks) r ON r.k = n % (SELECT count(*) FROM rocks);
INSERT INTO accounts (username, password_hash, rock_id, rock_embedding, rock_similarity)
SELECT 'seed_' || n, me.password_hash,
       (SELECT id FROM rocks ORDER BY id OFFSET (n * 7919) % (SELECT count(*) FROM rocks) LIMIT 1),
       me.rock_embedding, 0.5
FROM generate_series(1, 10000) n, (SELECT * FROM accounts WHERE username = 'bench_reader') me;
INSERT INTO account_stats (account_id) SELECT id FROM accounts ON CONFLICT DO NOTHING;
CREATE TEMP TABLE seeded AS SELECT id, row_number() OVER (ORDER BY id) AS n FROM accounts WHERE username LIKE 'seed\_%';
-- The reader's 50 statuses come first, so that its home timeline is still its follows'.
INSERT INTO statuses (account_id, text)
SELECT me.id, 'reader status ' || g FROM accounts me, generate_series(1, 50) g WHERE me.username = 'bench_reader';
-- Time-ordered ids (snowflake_id), oldest first.
INSERT INTO statuses (account_id, text)
SELECT s.id, 'seeded status ' || g FROM generate_series(1, 200000) g
JOIN seeded s ON s.n = 1 + (hashint4(g) & 2147483647) % 10000 ORDER BY g;
-- A fifth are replies to an earlier status.
UPDATE statuses c SET in_reply_to_id = p.id, in_reply_to_account_id = p.account_id
FROM (SELECT id, lag(id, 1 + (hashint8(id) & 255)::int) OVER (ORDER BY id) AS parent FROM statuses) x
JOIN statuses p ON p.id = x.parent
WHERE c.id = x.id AND hashint8(c.id) % 5 = 0;
-- One thread five replies deep, for the thread context.
DO $$
DECLARE parent BIGINT; author BIGINT;
BEGIN
    SELECT id INTO author FROM seeded WHERE n = 1;
    INSERT INTO statuses (account_id, text) VALUES (author, 'bench thread root') RETURNING id INTO parent;
    FOR depth IN 1..5 LOOP
        INSERT INTO statuses (account_id, text, in_reply_to_id, in_reply_to_account_id)
        VALUES (author, 'bench thread reply ' || depth, parent, author) RETURNING id INTO parent;
    END LOOP;
END $$;
INSERT INTO follows (follower_id, followee_id)
SELECT a.id, b.id FROM seeded a CROSS JOIN generate_series(1, 50) k
JOIN seeded b ON b.n = 1 + (a.n + k * 197 + (hashint4((a.n * 50 + k)::int) & 1023)) % 10000
WHERE a.id <> b.id ON CONFLICT DO NOTHING;
INSERT INTO follows (follower_id, followee_id)
SELECT me.id, s.id FROM accounts me, seeded s WHERE me.username = 'bench_reader' AND s.n % 200 = 7;
INSERT INTO favourites (account_id, status_id)
SELECT a.id, st.id FROM (SELECT g, 1 + (hashint4(g) & 2147483647) % 10000 AS an,
                                (hashint4(g + 7) & 2147483647) % 200000 AS sn FROM generate_series(1, 300000) g) r
JOIN seeded a ON a.n = r.an
JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS sn FROM statuses) st ON st.sn = r.sn
ON CONFLICT DO NOTHING;
-- 400 accounts follow the reader and each favourites one of its statuses.
INSERT INTO follows (follower_id, followee_id)
SELECT s.id, me.id FROM accounts me, seeded s WHERE me.username = 'bench_reader' AND s.n % 25 = 3;
INSERT INTO favourites (account_id, status_id)
SELECT f.follower_id, (SELECT id FROM statuses WHERE account_id = me.id ORDER BY id OFFSET f.follower_id % 50 LIMIT 1)
FROM accounts me JOIN follows f ON f.followee_id = me.id WHERE me.username = 'bench_reader'
ON CONFLICT DO NOTHING;
-- A notification for every follow and favourite, in shuffled order.
INSERT INTO notifications (account_id, from_account_id, type, status_id)
SELECT account_id, from_account_id, type, status_id FROM (
    SELECT f.followee_id AS account_id, f.follower_id AS from_account_id, 'follow' AS type, NULL::BIGINT AS status_id,
           hashint8(f.follower_id * 31 + f.followee_id) AS o FROM follows f
    UNION ALL
    SELECT s.account_id, fv.account_id, 'favourite', fv.status_id, hashint8(fv.account_id * 31 + fv.status_id)
    FROM favourites fv JOIN statuses s ON s.id = fv.status_id WHERE s.account_id <> fv.account_id) x
ORDER BY o ON CONFLICT DO NOTHING;
UPDATE account_stats st SET statuses_count = c.statuses, followers_count = c.followers, following_count = c.following
FROM (SELECT a.id,
             (SELECT count(*) FROM statuses s WHERE s.account_id = a.id) AS statuses,
             (SELECT count(*) FROM follows f WHERE f.followee_id = a.id) AS followers,
             (SELECT count(*) FROM follows f WHERE f.follower_id = a.id) AS following
      FROM accounts a) c WHERE st.account_id = c.id;
UPDATE statuses s SET replies_count = c.n FROM (SELECT in_reply_to_id AS id, count(*) AS n FROM statuses
    WHERE in_reply_to_id IS NOT NULL GROUP BY 1) c WHERE s.id = c.id;
UPDATE statuses s SET favourites_count = c.n FROM (SELECT status_id AS id, count(*) AS n FROM favourites GROUP BY 1) c
    WHERE s.id = c.id;
SET session_replication_role = origin;
VACUUM ANALYZE;
SQL
counts=$(psql_ rockstar -At -F ' ' -c "SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM rocks),
    (SELECT count(*) FROM statuses), (SELECT count(*) FROM statuses WHERE in_reply_to_id IS NOT NULL),
    (SELECT count(*) FROM follows), (SELECT count(*) FROM favourites), (SELECT count(*) FROM notifications)")
read -r n_accounts n_rocks n_statuses n_replies n_follows n_favourites n_notifications <<<"$counts"
echo "seeded in $(( $(date +%s) - seed_started )) s: $n_accounts accounts, $n_rocks rocks, $n_statuses statuses" \
     "($n_replies replies), $n_follows follows, $n_favourites favourites, $n_notifications notifications"

me=$(psql_ rockstar -At -c "SELECT id FROM accounts WHERE username = 'bench_reader'")
leaf=$(psql_ rockstar -At -c "SELECT id FROM statuses WHERE text = 'bench thread reply 5'")
profile=seed_17
profile_id=$(psql_ rockstar -At -c "SELECT id FROM accounts WHERE username = '$profile'")

# database.md's reference queries: a page of 20 statuses joined with author and rock.
page_cols="s.id, s.text, s.created_at, s.replies_count, s.favourites_count, a.username, a.display_name, r.id AS rock_id, r.name"
page_from="statuses s JOIN accounts a ON a.id = s.account_id LEFT JOIN rocks r ON r.id = a.rock_id"
sqldir="$work/sql"; mkdir -p "$sqldir"
cat >"$sqldir/public.sql" <<SQL
SELECT $page_cols FROM $page_from WHERE s.id < 9223372036854775807 ORDER BY s.id DESC LIMIT 20;
SQL
cat >"$sqldir/home.sql" <<SQL
SELECT $page_cols FROM $page_from
WHERE s.account_id = $me OR EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = $me AND f.followee_id = s.account_id)
ORDER BY s.id DESC LIMIT 20;
SQL
cat >"$sqldir/profile.sql" <<SQL
SELECT a.id, a.username, a.display_name, a.note, a.created_at, r.id, r.name,
       st.statuses_count, st.followers_count, st.following_count
FROM accounts a JOIN account_stats st ON st.account_id = a.id LEFT JOIN rocks r ON r.id = a.rock_id
WHERE lower(a.username) = '$profile';
SQL
cat >"$sqldir/notifications.sql" <<SQL
SELECT n.id, n.type, n.status_id, n.read, n.created_at, a.username, a.display_name, r.id AS rock_id, r.name
FROM notifications n JOIN accounts a ON a.id = n.from_account_id LEFT JOIN rocks r ON r.id = a.rock_id
WHERE n.account_id = $me ORDER BY n.id DESC LIMIT 20;
SQL
cat >"$sqldir/followers.sql" <<SQL
SELECT a.id, a.username, a.display_name, a.note, a.created_at, r.id, r.name,
       st.statuses_count, st.followers_count, st.following_count
FROM follows f JOIN accounts a ON a.id = f.follower_id JOIN account_stats st ON st.account_id = a.id
LEFT JOIN rocks r ON r.id = a.rock_id
WHERE f.followee_id = $profile_id ORDER BY f.follower_id DESC LIMIT 20;
SQL
cat >"$sqldir/context.sql" <<SQL
WITH RECURSIVE up (id, parent, depth) AS (
    SELECT id, in_reply_to_id, 0 FROM statuses WHERE id = $leaf
    UNION ALL SELECT s.id, s.in_reply_to_id, up.depth + 1 FROM statuses s JOIN up ON s.id = up.parent WHERE up.depth < 5)
SELECT $page_cols FROM up JOIN $page_from ON s.id = up.id WHERE up.depth > 0 ORDER BY s.id;
SQL

declare -A path=([public]="/api/v1/timelines/public" [home]="/api/v1/timelines/home"
                 [profile]="/api/v1/accounts/$profile" [context]="/api/v1/statuses/$leaf/context"
                 [notifications]="/api/v1/notifications" [followers]="/api/v1/accounts/$profile/followers")
reads=(public home profile context notifications followers)
# Every endpoint must answer 200 with what the reference query returns, or the ratio means nothing.
for read in "${reads[@]}"; do
    code=$(curl -s -o "$work/$read.json" -w '%{http_code}' -H "Authorization: Bearer $token" "$base${path[$read]}")
    [ "$code" = 200 ] || { echo "$read: HTTP $code: $(head -c 300 "$work/$read.json")"; exit 1; }
done
python3 - "$work" <<'PY'
import json, sys
w = sys.argv[1]
load = lambda n: json.load(open(f"{w}/{n}.json"))
assert len(load("public")) == 20 and len(load("home")) == 20, "a timeline page is not 20 statuses"
assert len(load("context")["ancestors"]) == 5, "the thread context does not have its 5 ancestors"
assert load("profile")["username"] == "seed_17"
assert len(load("notifications")) == 20, "the notifications page is not 20"
assert len(load("followers")) == 20, "the followers page is not 20"
PY

http_rps() { # connections path
    local threads=$(( $1 > 1 ? 2 : 1 ))
    wrk -t"$threads" -c"$1" -d"${secs}s" -H "Authorization: Bearer $token" "$base$2" \
        | awk '/Non-2xx/ {bad=1} /Requests\/sec/ {rps=$2} END {if (bad) print "non-2xx"; else print rps}'
}
sql_tps() { # clients script
    local jobs=$(( $1 > 1 ? 2 : 1 ))
    "$pg_bin/pgbench" -n -M prepared -c "$1" -j "$jobs" -T "$secs" -h "$socket" -U rockstar -f "$2" rockstar \
        2>/dev/null | awk '/^tps/ {print $3}'
}

printf '\n%-13s %5s %12s %12s %8s\n' read conns "HTTP req/s" "SQL tps" HTTP/SQL
# The other floor: what the server answers without touching the database.
for c in 1 4; do printf '%-13s %5d %12s %12s %8s\n' healthz "$c" "$(http_rps "$c" /healthz)" - -; done
for read in "${reads[@]}"; do
    for c in 1 4; do
        h=$(http_rps "$c" "${path[$read]}"); s=$(sql_tps "$c" "$sqldir/$read.sql")
        printf '%-13s %5d %12s %12s %8s\n' "$read" "$c" "$h" "$s" \
            "$(python3 -c "import sys; h, s = sys.argv[1:]; print(f'{float(h) / float(s):.2f}' if h != 'non-2xx' else '-')" "$h" "$s")"
    done
done
