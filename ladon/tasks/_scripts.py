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

Retries (issue 14): ``attempt`` (which attempt runs, or comes next while
the task waits to run again; absent = 1), ``attempts`` (the most),
``rdelay`` (the method's ``retry_delay``), ``queued`` (when the task last
became pending) and ``nwt`` (seconds a pending task may wait while no
worker is alive on its queue, empty for no bound). Workers beat in a
sorted set ``<prefix>workers:<queue>`` (member: the worker's name, score:
its last beat), read by :data:`STATUS` for that bound.

Issue 14 adds ``idem`` (the key ``<prefix>idem:<scoped key>`` of the task's
Idempotency-Key, which holds ``<task id>|<fingerprint>`` and expires with
the record), ``callback`` (the callback target as JSON) and ``cbstate``
(how its delivery goes). Every end of a task is published on the channel
``<prefix>ended`` (the task id), which waiting calls listen to.
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
local MAX_RETRY_DELAY = 86400
-- the record expires in ms milliseconds, and its Idempotency-Key with it
local function expire(key, ms)
  redis.call('PEXPIRE', key, ms)
  local idem = redis.call('HGET', key, 'idem')
  if idem then redis.call('PEXPIRE', idem, ms) end
end
-- a new pending record (the arguments of CREATE)
local function create(key, method, ttl, lease, grace, keep, args, env, maxrt, principal,
    attempts, rdelay, nwt, tp, callback)
  local t = fmt(now())
  redis.call('HSET', key, 'method', method, 'state', 'pending', 'progress', '0',
    'created', t, 'hb', t, 'ttl', ttl, 'lease', lease, 'grace', grace,
    'keep', keep, 'args', args, 'env', env, 'maxrt', maxrt, 'principal', principal,
    'attempt', '1', 'attempts', attempts, 'rdelay', rdelay, 'nwt', nwt, 'queued', t,
    'tp', tp or '')
  if callback and callback ~= '' then
    redis.call('HSET', key, 'callback', callback, 'cbstate', 'pending')
  end
  redis.call('PEXPIRE', key, keep)
end
-- ago: seconds since the job ended (its end written late: Redis was away);
-- the task finished then, not before it started
local function finish(key, required, state, result, err, detail, ago)
  if redis.call('HGET', key, 'state') ~= required then return 0 end
  if redis.call('HEXISTS', key, 'cancel') == 1 then state = 'cancelled' end
  local t = now()
  if ago and ago > 0 then
    t = t - ago
    local started = tonumber(redis.call('HGET', key, 'started') or '')
    if started and t < started then t = started end
  end
  redis.call('HSET', key, 'state', state, 'finished', fmt(t), 'progress', '1')
  if state == 'cancelled' then
    redis.call('HSET', key, 'message', CANCELLED_MESSAGE)
  elseif state == 'succeeded' then
    redis.call('HSET', key, 'result', result)
  elseif state == 'failed' then
    redis.call('HSET', key, 'error', err, 'detail', detail)
  end
  redis.call('HDEL', key, 'args', 'env')
  expire(key, math.floor(tonumber(redis.call('HGET', key, 'ttl')) * 1000))
  -- waiting calls listen on <prefix>ended (the key is <prefix>task:<40-digit id>)
  redis.call('PUBLISH', string.sub(key, 1, -46) .. 'ended', string.sub(key, -40))
  return 1
end
local function gave_up(reason, attempt, attempts)
  if attempts <= 1 then return reason end
  return string.format('%s (attempt %d of %d; no retries left)', reason, attempt, attempts)
end
-- the message of a task whose next attempt RQ runs after its retry interval:
-- delay (whole seconds) plus one, as rq_interval() makes the intervals
local function waiting(attempt, attempts, delay, reason)
  local when = 'now'
  if delay > 0 then when = string.format('in %d s', delay + 1) end
  return string.format('attempt %d of %d starts %s; attempt %d: %s',
    attempt, attempts, when, attempt - 1, reason)
end
-- A running task whose worker is gone (or stopped): pending again as its
-- next attempt when it may run again (2: RQ runs its job again, after the
-- delay RQ's retry waits), else failed (1; cancelled if a cancel came).
local function lose(key, reason, detail)
  local f = redis.call('HMGET', key, 'attempt', 'attempts', 'rdelay', 'cancel', 'args')
  local attempt = tonumber(f[1] or '1') or 1
  local attempts = tonumber(f[2] or '1') or 1
  if (not f[4]) and f[5] and attempt < attempts then
    local delay = math.min(math.ceil((tonumber(f[3] or '0') or 0) * 2 ^ (attempt - 1)),
      MAX_RETRY_DELAY)
    local t = fmt(now())
    redis.call('HSET', key, 'state', 'pending', 'attempt', tostring(attempt + 1), 'started', '',
      'hb', t, 'queued', t, 'message', waiting(attempt + 1, attempts, delay, reason))
    redis.call('HDEL', key, 'worker')
    expire(key, redis.call('HGET', key, 'keep'))
    return 2
  end
  finish(key, 'running', 'failed', '', gave_up(reason, attempt, attempts), detail)
  return 1
end
local function uptime()
  local info = redis.call('INFO', 'server')
  return tonumber(string.match(info, 'uptime_in_seconds:(%d+)')) or 0
end
"""

#: Seconds after Redis started during which no task is failed for want of
#: a live worker: the workers, alive across its outage, beat again first
#: (every 2 s; a worker counts as alive 10 s after its last beat).
WORKERS_BACK = 10

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
    "callback",
    "cbstate",
    "attempt",
    "attempts",
    "queued",
    "nwt",
)
_FIELDS = ", ".join(f"'{name}'" for name in STATUS_FIELDS)
#: Lua index of each field in the reply of ``HMGET`` :data:`STATUS_FIELDS`.
_AT = {name: i for i, name in enumerate(STATUS_FIELDS, 1)}

LOST_DETAIL = (
    "The worker running the task stopped sending heartbeats "
    "(it was killed, crashed or lost its connection to Redis)."
)
#: The detail of a pending task failed for want of a live worker.
NO_WORKER_DETAIL = (
    "No ladon worker was alive on the task's queue for longer than the backend's "
    "no_worker_timeout: start workers (ladon worker APP) for this queue."
)

#: KEYS: record. ARGV: method, ttl, lease, grace, keep (ms), args, env,
#: max_runtime ('' for none), principal ('' for none), attempts,
#: retry_delay, no-worker bound ('' for none), traceparent ('' for none),
#: callback ('' for none).
CREATE = """
create(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8],
  ARGV[9], ARGV[10], ARGV[11], ARGV[12], ARGV[13], ARGV[14])
return 1
"""

#: KEYS: Idempotency-Key, record. ARGV: task id, fingerprint, then CREATE's.
#: Returns ``<task id>|<fingerprint>`` of the task the key started, when it
#: is kept; else creates the record (and the key) and returns nil.
CREATE_ONCE = """
local held = redis.call('GET', KEYS[1])
if held then
  local other = string.sub(KEYS[2], 1, -41) .. string.sub(held, 1, 40)
  if redis.call('EXISTS', other) == 1 then return held end
end
create(KEYS[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10],
  ARGV[11], ARGV[12], ARGV[13], ARGV[14], ARGV[15], ARGV[16])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2], 'PX', ARGV[7])
redis.call('HSET', KEYS[2], 'idem', KEYS[1])
return false
"""

#: KEYS: record. ARGV: the state the caller wrote and now takes again (''
#: for none), the seconds after which a callback a process took and left
#: alone (it died) may be taken ('' for never). Takes an ended task's
#: callback for sending: returns the STATUS_FIELDS then 0, or nil when
#: there is nothing to take.
CLAIM_CALLBACK = f"""
local f = redis.call('HMGET', KEYS[1], 'state', 'cbstate', 'cbat')
if f[2] == false or f[1] == 'pending' or f[1] == 'running' then return false end
local t = now()
if ARGV[1] ~= '' then
  if f[2] ~= ARGV[1] then return false end
elseif f[2] ~= 'pending' then
  if ARGV[2] == '' or not f[3] or t - tonumber(f[3]) <= tonumber(ARGV[2]) then return false end
end
redis.call('HSET', KEYS[1], 'cbstate', 'sending', 'cbat', fmt(t))
f = redis.call('HMGET', KEYS[1], {_FIELDS})
f[{len(STATUS_FIELDS) + 1}] = 0
return f
"""

#: KEYS: record. ARGV: the callback's delivery state, '1' while a process
#: holds it (sending, waiting to try again: the time is noted) else '' (a
#: record that expired meanwhile is not made again).
SET_CALLBACK_STATE = """
if redis.call('HEXISTS', KEYS[1], 'callback') == 0 then return 0 end
redis.call('HSET', KEYS[1], 'cbstate', ARGV[1])
if ARGV[2] == '1' then
  redis.call('HSET', KEYS[1], 'cbat', fmt(now()))
else
  redis.call('HDEL', KEYS[1], 'cbat')
end
return 1
"""

#: KEYS: record, the workers' set. ARGV: worker label, lost detail.
#: Returns [args, env, grace, maxrt, principal, attempt, attempts,
#: retry_delay, traceparent] or nil. RQ may run a job again while its
#: record still says running (its abandoned-job clean-up after a worker
#: vanished): a live attempt is not run twice; a lost one ends, or goes on
#: as the next attempt.
BEGIN = """
local f = redis.call('HMGET', KEYS[1], 'state', 'hb', 'lease')
local t = now()
if f[1] == 'running' then
  if tonumber(f[2]) + tonumber(f[3]) >= t then return false end
  if lose(KEYS[1], 'worker lost', ARGV[2]) ~= 2 then return false end
elseif f[1] ~= 'pending' then return false end
local attempt = tonumber(redis.call('HGET', KEYS[1], 'attempt') or '1') or 1
redis.call('HSET', KEYS[1], 'state', 'running', 'started', fmt(t), 'hb', fmt(t), 'worker', ARGV[1])
if attempt == 1 then
  redis.call('HSET', KEYS[1], 'progress', '0')
else
  redis.call('HDEL', KEYS[1], 'message')
end
expire(KEYS[1], redis.call('HGET', KEYS[1], 'keep'))
redis.call('ZADD', KEYS[2], t, ARGV[1])
return redis.call('HMGET', KEYS[1], 'args', 'env', 'grace', 'maxrt', 'principal', 'attempt',
  'attempts', 'rdelay', 'tp')
"""

#: KEYS: record, the workers' set. ARGV: progress or '', '1' when a message
#: follows, message, attempt, worker label. Returns 0 (go on), 1 (cancel
#: requested: the report is dropped, the heartbeat renewed) or 2 (no longer
#: running, or running as another attempt).
SYNC = """
if redis.call('HGET', KEYS[1], 'state') ~= 'running' then return 2 end
if (redis.call('HGET', KEYS[1], 'attempt') or '1') ~= ARGV[4] then return 2 end
redis.call('ZADD', KEYS[2], now(), ARGV[5])
local cancel = redis.call('HEXISTS', KEYS[1], 'cancel') == 1
if not cancel then
  if ARGV[1] ~= '' and tonumber(ARGV[1]) > tonumber(redis.call('HGET', KEYS[1], 'progress')) then
    redis.call('HSET', KEYS[1], 'progress', ARGV[1])
  end
  if ARGV[2] == '1' then redis.call('HSET', KEYS[1], 'message', ARGV[3]) end
end
redis.call('HSET', KEYS[1], 'hb', fmt(now()))
expire(KEYS[1], redis.call('HGET', KEYS[1], 'keep'))
if cancel then return 1 end
return 0
"""

#: KEYS: record. ARGV: state, result, error, detail, attempt, the last
#: message not written yet ('' for none), and the seconds since the job
#: ended ('' for now: the finish time). Returns 1 if the task was running
#: as that attempt (and is now finished).
FINISH = """
if (redis.call('HGET', KEYS[1], 'attempt') or '1') ~= ARGV[5] then return 0 end
if ARGV[6] and ARGV[6] ~= '' and redis.call('HGET', KEYS[1], 'state') == 'running' then
  redis.call('HSET', KEYS[1], 'message', ARGV[6])
end
return finish(KEYS[1], 'running', ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[7] or ''))
"""

#: KEYS: record. ARGV: attempt, message. The attempt raised Retry and may
#: run again: the task is pending as the next attempt (1), or, when a
#: cancel came first, cancelled (0); 0 when it no longer runs as that attempt.
RETRY = """
if redis.call('HGET', KEYS[1], 'state') ~= 'running' then return 0 end
if (redis.call('HGET', KEYS[1], 'attempt') or '1') ~= ARGV[1] then return 0 end
if redis.call('HEXISTS', KEYS[1], 'cancel') == 1 then
  finish(KEYS[1], 'running', 'cancelled', '', '', '')
  return 0
end
local t = fmt(now())
redis.call('HSET', KEYS[1], 'state', 'pending', 'attempt', tostring(tonumber(ARGV[1]) + 1),
  'started', '', 'hb', t, 'queued', t, 'message', ARGV[2])
redis.call('HDEL', KEYS[1], 'worker')
expire(KEYS[1], redis.call('HGET', KEYS[1], 'keep'))
return 1
"""

#: KEYS: record, RQ job, the workers' set. ARGV: method, lost detail,
#: max_runtime detail, no-worker detail. Returns the STATUS_FIELDS then the
#: hard-stop flag and the run-again flag, or nil for an unknown or foreign
#: id. A task whose lease ran out is lost (not in the first lease after
#: Redis restarted, so that live workers beat again first): run again when
#: it may (the caller has RQ run its job again), else failed ("worker
#: lost"); a pending task fails when no worker was alive on its queue for
#: ``nwt`` seconds; a running task past its max_runtime fails (then asks for
#: a hard stop).
STATUS = f"""
local f = redis.call('HMGET', KEYS[1], {_FIELDS})
if f[{_AT["method"]}] ~= ARGV[1] then return false end
local state = f[{_AT["state"]}]
local stop = 0
local again = 0
if state == 'pending' or state == 'running' then
  local t = now()
  local lost = false
  local lease = tonumber(f[{_AT["lease"]}])
  if state == 'running' then
    lost = tonumber(f[{_AT["hb"]}]) + lease < t and uptime() >= lease
  elseif tonumber(f[{_AT["created"]}]) + lease < t then
    local job = redis.call('HGET', KEYS[2], 'status')
    lost = (not job) or job == 'failed' or job == 'stopped' or job == 'canceled'
  end
  local maxrt = tonumber(f[{_AT["maxrt"]}] or '')
  local nwt = tonumber(f[{_AT["nwt"]}] or '')
  local idle = false
  if state == 'pending' and nwt and not lost then
    local last = tonumber(f[{_AT["queued"]}] or '') or tonumber(f[{_AT["created"]}])
    local newest = redis.call('ZREVRANGE', KEYS[3], 0, 0, 'WITHSCORES')
    if newest[2] and tonumber(newest[2]) > last then last = tonumber(newest[2]) end
    -- not in the first seconds after a restart: the live workers beat again first
    idle = last + nwt < t and uptime() >= {WORKERS_BACK}
  end
  if lost and state == 'running' then
    if lose(KEYS[1], 'worker lost', ARGV[2]) == 2 then again = 1 end
    f = redis.call('HMGET', KEYS[1], {_FIELDS})
  elseif lost then
    finish(KEYS[1], state, 'failed', '', 'worker lost', ARGV[2])
    f = redis.call('HMGET', KEYS[1], {_FIELDS})
  elseif idle then
    local err = string.format('no live worker on its queue for %g s', nwt)
    finish(KEYS[1], 'pending', 'failed', '', err, ARGV[4])
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
f[{len(STATUS_FIELDS) + 2}] = again
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
f[{len(STATUS_FIELDS) + 2}] = 0
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

#: KEYS: record. ARGV: detail, reason ("worker lost", "worker stopped"),
#: attempt ('' for any). A running task whose worker is gone: 2 when it is
#: pending again as its next attempt (RQ is to run its job again), 1 when
#: it ended (failed, or cancelled), 0 when it was not running (as that
#: attempt).
LOST = """
if redis.call('HGET', KEYS[1], 'state') ~= 'running' then return 0 end
if ARGV[3] ~= '' and (redis.call('HGET', KEYS[1], 'attempt') or '1') ~= ARGV[3] then return 0 end
return lose(KEYS[1], ARGV[2], ARGV[1])
"""

#: KEYS: the workers' set. ARGV: worker name. A worker's beat (kept a day).
ALIVE = """
local t = now()
redis.call('ZADD', KEYS[1], t, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', t - 86400)
redis.call('EXPIRE', KEYS[1], 86400)
return 1
"""

SCRIPTS = {
    name: _COMMON + body
    for name, body in (
        ("create", CREATE),
        ("create_once", CREATE_ONCE),
        ("claim_callback", CLAIM_CALLBACK),
        ("set_callback_state", SET_CALLBACK_STATE),
        ("begin", BEGIN),
        ("sync", SYNC),
        ("finish", FINISH),
        ("status", STATUS),
        ("cancel", CANCEL),
        ("stop", STOP),
        ("lost", LOST),
        ("retry", RETRY),
        ("alive", ALIVE),
    )
}
