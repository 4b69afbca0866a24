/**
 * The Lua scripts behind the Redis spend store. Redis runs a script atomically, so each of
 * reserve, settle and release is one indivisible step for every instance sharing the server.
 *
 * Data (every key starts with the namespace prefix `{ns}:`, one hash slot in a cluster):
 * - `c:<window>:<period>:<dimension>:<id>`: a hash of integer nano-USD `s` (settled), `h` (held by
 *   in-flight reservations) and `n` (settled requests); expires after its window and retention.
 * - `idx:<window>:<period>`: the set of counters of that window, for reports.
 * - `lease:<id>`: a reservation (`{"a": amount, "k": [counter keys]}`); `leases`: a sorted set of
 *   reservation ids by expiry (epoch ms), so expired ones can be reclaimed.
 * - `done:<id>`: marks a settled reservation, so settling twice never counts twice.
 * Amounts travel as decimal strings and are compared as Lua numbers, exact below 2^53. Times to
 * live are relative to the caller's clock, so keys expire the same time after their window ends
 * whatever the skew between an instance's clock and the server's.
 */

/** Removes a reservation, giving back what it holds on its counters. Shared by every script. */
const RECLAIM = `
local function drop_lease(lease_key, id, leases)
  local lease = redis.call('GET', lease_key)
  if lease then
    local l = cjson.decode(lease)
    if l.a ~= '0' then
      for _, counter in ipairs(l.k) do
        if redis.call('EXISTS', counter) == 1 then redis.call('HINCRBY', counter, 'h', '-' .. l.a) end
      end
    end
    redis.call('DEL', lease_key)
  end
  redis.call('ZREM', leases, id)
end
`;

/**
 * KEYS: leases, new lease key, then per check: counter key, index key.
 * ARGV: prefix, now ms, lease expiry ms, estimate, reservation id, then per check: limit ('' for
 * none), index member, counter time to live (s).
 * Returns {1 | 0, settled_1, held_1, settled_2, held_2, …}, the levels before reserving.
 */
export const RESERVE = `${RECLAIM}
local prefix, now, expires, estimate = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local lease_id = ARGV[5]
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 64)) do
  drop_lease(prefix .. 'lease:' .. id, id, KEYS[1])
end
local n = (#KEYS - 2) / 2
local reply, ok = {}, 1
for i = 1, n do
  local level = redis.call('HMGET', KEYS[1 + 2 * i], 's', 'h')
  local settled, held = level[1] or '0', level[2] or '0'
  reply[#reply + 1] = settled
  reply[#reply + 1] = held
  local limit = ARGV[3 + 3 * i]
  if limit ~= '' and tonumber(settled) + tonumber(held) >= tonumber(limit) then ok = 0 end
end
if ok == 1 then
  local counters = {}
  for i = 1, n do
    local counter, index = KEYS[1 + 2 * i], KEYS[2 + 2 * i]
    redis.call('HINCRBY', counter, 'h', estimate)
    redis.call('EXPIRE', counter, ARGV[5 + 3 * i])
    redis.call('SADD', index, ARGV[4 + 3 * i])
    redis.call('EXPIRE', index, ARGV[5 + 3 * i])
    counters[#counters + 1] = counter
  end
  -- No time to live: a lease lives until settled, released or reclaimed, so what it holds is
  -- always given back.
  redis.call('SET', KEYS[2], cjson.encode({a = estimate, k = counters}))
  redis.call('ZADD', KEYS[1], expires, lease_id)
end
table.insert(reply, 1, ok)
return reply
`;

/**
 * KEYS: leases, lease key, done key, then per attributed counter: counter key, index key.
 * ARGV: reservation id, actual, done time to live (s), then per counter: time to live (s), member.
 * Returns 1 when recorded, 0 when this reservation was already settled.
 */
export const SETTLE = `${RECLAIM}
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
drop_lease(KEYS[2], ARGV[1], KEYS[1])
local actual = ARGV[2]
for i = 1, (#KEYS - 3) / 2 do
  local counter, index, ttl = KEYS[2 + 2 * i], KEYS[3 + 2 * i], ARGV[2 + 2 * i]
  redis.call('HINCRBY', counter, 's', actual)
  redis.call('HINCRBY', counter, 'n', 1)
  redis.call('EXPIRE', counter, ttl)
  redis.call('SADD', index, ARGV[3 + 2 * i])
  redis.call('EXPIRE', index, ttl)
end
redis.call('SET', KEYS[3], actual)
redis.call('EXPIRE', KEYS[3], ARGV[3])
return 1
`;

/** KEYS: leases, lease key. ARGV: reservation id. */
export const RELEASE = `${RECLAIM}
drop_lease(KEYS[2], ARGV[1], KEYS[1])
return 1
`;
