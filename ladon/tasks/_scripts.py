"""The Lua scripts that change task records in Redis.

Each change is one script, so it is atomic and costs one round trip. Times
come from the Redis server's clock (``TIME``), so that web processes and
workers on different hosts agree on heartbeats and leases.

A record is a hash with the fields: ``method``, ``state``, ``progress``,
``message``, ``created``, ``started``, ``finished``, ``result`` (typed JSON
text), ``error``, ``detail``, ``hb`` (last heartbeat),
``lease``, ``ttl`` (seconds kept once finished), ``keep`` (milliseconds an
unfinished record lives without news), ``grace`` (seconds a running task
has to honour a cancel), ``cancel`` (when a cancel was requested), ``stop``
(a hard stop was sent), ``maxrt`` (the task's max_runtime in seconds, empty
for none), ``worker``, ``principal`` (the caller that started the task, as
JSON, empty for an anonymous one), ``tp`` (the start call's W3C
``traceparent``, empty without one), and while unfinished ``args`` and
``env`` (the call, see :class:`~ladon.tasks.jobs.JobSpec`).
"""

from __future__ import annotations

from .base import CANCEL_REQUESTED_MESSAGE
from .base import CANCELLED_MESSAGE

# NOTE: the messages are plain ASCII words, safe inside a Lua '...' string.
assert "'" not in CANCELLED_MESSAGE + CANCEL_REQUESTED_MESSAGE

_COMMON = f"""
local CANCELLED_MESSAGE = '{CANCELLED_MESSAGE}'
local CANCEL_REQUESTED_MESSAGE = '{CANCEL_REQUESTED_MESSAGE}'
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local function fmt(x) return string.format('%.6f', x) end
local function finish(key, required, state, result, err, detail)
  if redis.call('HGET', key, 'state') ~= required then return 0 end
  if redis.call('HEXISTS', key, 'cancel') == 1 then state = 'cancelled' end
  redis.call('HSET', key, 'state', state, 'finished', fmt(now()), 'progress', '1')
  if state == 'cancelled' then
    redis.call('HSET', key, 'message', CANCELLED_MESSAGE)
  elseif state == 'succeeded' then
    redis.call('HSET', key, 'result', result)
  elseif state == 'failed' then
    redis.call('HSET', key, 'error', err, 'detail', detail)
  end
  redis.call('HDEL', key, 'args', 'env')
  redis.call('PEXPIRE', key, math.floor(tonumber(redis.call('HGET', key, 'ttl')) * 1000))
  return 1
end
"""

#: The fields :data:`STATUS` returns, in order (then the hard-stop flag).
STATUS_FIELDS = (
    "method",
    "state",
    "progress",
    "message",
    "created",
    "started",
    "finished",
    "result",
    "error",
    "detail",
    "hb",
    "lease",
    "cancel",
    "grace",
    "stop",
    "maxrt",
    "principal",
)
_FIELDS = ", ".join(f"'{name}'" for name in STATUS_FIELDS)
#: Lua index of each field in the reply of ``HMGET`` :data:`STATUS_FIELDS`.
_AT = {name: i for i, name in enumerate(STATUS_FIELDS, 1)}

LOST_DETAIL = (
    "The worker running the task stopped sending heartbeats "
    "(it was killed, crashed or lost its connection to Redis)."
)

#: KEYS: record. ARGV: method, ttl, lease, grace, keep (ms), args, env,
#: max_runtime ('' for none), principal ('' for none), traceparent ('' for
#: none).
CREATE = """
local t = fmt(now())
redis.call('HSET', KEYS[1], 'method', ARGV[1], 'state', 'pending', 'progress', '0',
  'created', t, 'hb', t, 'ttl', ARGV[2], 'lease', ARGV[3], 'grace', ARGV[4],
  'keep', ARGV[5], 'args', ARGV[6], 'env', ARGV[7], 'maxrt', ARGV[8], 'principal', ARGV[9], 'tp', ARGV[10] or '')
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
"""

#: KEYS: record. ARGV: worker label. Returns [args, env, grace, maxrt,
#: principal, traceparent] or nil.
BEGIN = """
if redis.call('HGET', KEYS[1], 'state') ~= 'pending' then return false end
local t = fmt(now())
redis.call('HSET', KEYS[1], 'state', 'running', 'started', t, 'hb', t, 'progress', '0',
  'worker', ARGV[1])
redis.call('PEXPIRE', KEYS[1], redis.call('HGET', KEYS[1], 'keep'))
return redis.call('HMGET', KEYS[1], 'args', 'env', 'grace', 'maxrt', 'principal', 'tp')
"""

#: KEYS: record. ARGV: progress or '', '1' when a message follows, message.
#: Returns 0 (go on), 1 (cancel requested: the report is dropped, the
#: heartbeat renewed) or 2 (no longer running).
SYNC = """
if redis.call('HGET', KEYS[1], 'state') ~= 'running' then return 2 end
local cancel = redis.call('HEXISTS', KEYS[1], 'cancel') == 1
if not cancel then
  if ARGV[1] ~= '' and tonumber(ARGV[1]) > tonumber(redis.call('HGET', KEYS[1], 'progress')) then
    redis.call('HSET', KEYS[1], 'progress', ARGV[1])
  end
  if ARGV[2] == '1' then redis.call('HSET', KEYS[1], 'message', ARGV[3]) end
end
redis.call('HSET', KEYS[1], 'hb', fmt(now()))
redis.call('PEXPIRE', KEYS[1], redis.call('HGET', KEYS[1], 'keep'))
if cancel then return 1 end
return 0
"""

#: KEYS: record. ARGV: state, result, error, detail. Returns 1 if
#: the task was running (and is now finished).
FINISH = """
return finish(KEYS[1], 'running', ARGV[1], ARGV[2], ARGV[3], ARGV[4])
"""

#: KEYS: record, RQ job. ARGV: method, lost detail, max_runtime detail.
#: Returns the STATUS_FIELDS then the hard-stop flag, or nil for an unknown
#: or foreign id. Fails a task whose lease ran out ("worker lost"), and a
#: running task past its max_runtime (then asks for a hard stop).
STATUS = f"""
local f = redis.call('HMGET', KEYS[1], {_FIELDS})
if f[{_AT["method"]}] ~= ARGV[1] then return false end
local state = f[{_AT["state"]}]
local stop = 0
if state == 'pending' or state == 'running' then
  local t = now()
  local lost = false
  local lease = tonumber(f[{_AT["lease"]}])
  if state == 'running' then
    lost = tonumber(f[{_AT["hb"]}]) + lease < t
  elseif tonumber(f[{_AT["created"]}]) + lease < t then
    local job = redis.call('HGET', KEYS[2], 'status')
    lost = (not job) or job == 'failed' or job == 'stopped' or job == 'canceled'
  end
  local maxrt = tonumber(f[{_AT["maxrt"]}] or '')
  if lost then
    finish(KEYS[1], state, 'failed', '', 'worker lost', ARGV[2])
    f = redis.call('HMGET', KEYS[1], {_FIELDS})
  elseif state == 'running' and maxrt and tonumber(f[{_AT["started"]}]) + maxrt <= t then
    local err = string.format('the task ran longer than its max_runtime of %g s', maxrt)
    finish(KEYS[1], 'running', 'failed', '', err, ARGV[3])
    redis.call('HSET', KEYS[1], 'stop', '1')
    f = redis.call('HMGET', KEYS[1], {_FIELDS})
    stop = 1
  elseif state == 'running' and f[{_AT["cancel"]}] and not f[{_AT["stop"]}]
      and tonumber(f[{_AT["cancel"]}]) + tonumber(f[{_AT["grace"]}]) <= t then
    redis.call('HSET', KEYS[1], 'stop', '1')
    stop = 1
  end
end
f[{len(STATUS_FIELDS) + 1}] = stop
return f
"""

#: KEYS: record. ARGV: method. Returns the STATUS_FIELDS then 0 (as
#: :data:`STATUS` does) once the cancel is recorded, or nil for an unknown or
#: foreign id: a pending task is cancelled outright, a running one flagged
#: (message "cancel requested"), a finished one left alone.
CANCEL = f"""
local f = redis.call('HMGET', KEYS[1], 'method', 'state')
if f[1] ~= ARGV[1] then return false end
if (f[2] == 'pending' or f[2] == 'running') and redis.call('HEXISTS', KEYS[1], 'cancel') == 0 then
  redis.call('HSET', KEYS[1], 'cancel', fmt(now()))
  if f[2] == 'pending' then
    finish(KEYS[1], 'pending', 'cancelled', '', '', '')
  else
    redis.call('HSET', KEYS[1], 'message', CANCEL_REQUESTED_MESSAGE)
  end
end
f = redis.call('HMGET', KEYS[1], {_FIELDS})
f[{len(STATUS_FIELDS) + 1}] = 0
return f
"""

#: KEYS: record. Ends a running task cancelled before a hard stop.
STOP = """
if redis.call('HGET', KEYS[1], 'state') ~= 'running' then return 0 end
redis.call('HSET', KEYS[1], 'stop', '1')
if redis.call('HEXISTS', KEYS[1], 'cancel') == 0 then
  redis.call('HSET', KEYS[1], 'cancel', fmt(now()))
end
return finish(KEYS[1], 'running', 'cancelled', '', '', '')
"""

#: KEYS: record. ARGV: detail. Fails a running task: its worker is gone.
LOST = """
return finish(KEYS[1], 'running', 'failed', '', 'worker lost', ARGV[1])
"""

SCRIPTS = {
    name: _COMMON + body
    for name, body in (
        ("create", CREATE),
        ("begin", BEGIN),
        ("sync", SYNC),
        ("finish", FINISH),
        ("status", STATUS),
        ("cancel", CANCEL),
        ("stop", STOP),
        ("lost", LOST),
    )
}
