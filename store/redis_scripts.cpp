#include "store/redis_scripts.hpp"

namespace kp::store::redis_scripts {

std::string_view const publish = R"lua(
local prefix = ARGV[1]
if redis.call('GET', prefix .. 'epoch') ~= ARGV[2] then
  return redis.error_reply('EPOCH the history epoch changed')
end
local maxlen = tonumber(ARGV[3])
local ttl = ARGV[4]
local topic = ARGV[5]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local offsets_key = prefix .. 'offsets'
local trimmed_key = prefix .. 'trimmed'
-- Each channel's offset is read once and written once per script, not once per part.
local last = {}
local touched = {}
local i = 6
local transactions = tonumber(ARGV[i]); i = i + 1
local out = {}
for t = 1, transactions do
  local events = tonumber(ARGV[i]); i = i + 1
  local results = {}
  local message = {}
  for e = 1, events do
    local key = ARGV[i]
    local parts = tonumber(ARGV[i + 1])
    i = i + 2
    local known = false
    if key ~= '' then known = redis.call('GET', prefix .. 'dedupe:' .. key) end
    if known then
      results[#results + 1] = {1, known}
      i = i + 3 * parts
    else
      local encoded = {}
      for p = 1, parts do
        local channel, ts, body = ARGV[i], ARGV[i + 1], ARGV[i + 2]
        i = i + 3
        if last[channel] == nil then
          last[channel] = tonumber(redis.call('HGET', offsets_key, channel) or '0')
          touched[#touched + 1] = channel
        end
        local offset = last[channel] + 1
        last[channel] = offset
        local id = string.format('%d-0', offset)
        redis.call('XADD', prefix .. 's:' .. channel, 'MAXLEN', ARGV[3], id, 'ts', ts, 'at', string.format('%d', now), 'body', body)
        encoded[#encoded + 1] = string.format('%d %s\n', offset, channel)
        message[#message + 1] = string.format('%s\n%d\n%s\n%d\n%d\n', channel, offset, ts, now, #body) .. body
      end
      local value = table.concat(encoded)
      if key ~= '' then redis.call('SET', prefix .. 'dedupe:' .. key, value, 'EX', ttl) end
      results[#results + 1] = {0, value}
    end
  end
  if #message > 0 then redis.call('PUBLISH', topic, table.concat(message)) end
  out[#out + 1] = results
end
for _, channel in ipairs(touched) do
  local offset = last[channel]
  redis.call('HSET', offsets_key, channel, string.format('%d', offset))
  if offset > maxlen then
    local through = offset - maxlen
    local old = tonumber(redis.call('HGET', trimmed_key, channel) or '0')
    if through > old then redis.call('HSET', trimmed_key, channel, string.format('%d', through)) end
  end
end
return out
)lua";

std::string_view const trim_by_age = R"lua(
local prefix, channel = ARGV[1], ARGV[2]
local key = prefix .. 's:' .. channel
local time = redis.call('TIME')
local cutoff = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) - tonumber(ARGV[3])
local through = 0
local start = '-'
local done = false
while not done do
  local entries = redis.call('XRANGE', key, start, '+', 'COUNT', 128)
  if #entries == 0 then break end
  for _, entry in ipairs(entries) do
    local fields = entry[2]
    local at = nil
    for f = 1, #fields, 2 do
      if fields[f] == 'at' then at = tonumber(fields[f + 1]) end
    end
    if at ~= nil and at < cutoff then
      through = tonumber(string.match(entry[1], '^(%d+)'))
      start = '(' .. entry[1]
    else
      done = true
      break
    end
  end
end
local trimmed_key = prefix .. 'trimmed'
local old = tonumber(redis.call('HGET', trimmed_key, channel) or '0')
if through > 0 then
  redis.call('XTRIM', key, 'MINID', string.format('%d-0', through + 1))
  if through > old then
    redis.call('HSET', trimmed_key, channel, through)
    old = through
  end
end
return old
)lua";

std::string_view const position_after = R"lua(
local prefix, channel = ARGV[1], ARGV[2]
local timestamp = tonumber(ARGV[3])
local head = tonumber(ARGV[4])
local key = prefix .. 's:' .. channel
local trimmed = tonumber(redis.call('HGET', prefix .. 'trimmed', channel) or '0')
local after = head
local covered = 0
if trimmed == 0 then covered = 1 end
local found = false
local start = '-'
while head > 0 do
  local entries = redis.call('XRANGE', key, start, string.format('%d-0', head), 'COUNT', 256)
  if #entries == 0 then break end
  for _, entry in ipairs(entries) do
    local fields = entry[2]
    local ts = nil
    for f = 1, #fields, 2 do
      if fields[f] == 'ts' then ts = tonumber(fields[f + 1]) end
    end
    if ts ~= nil and ts <= timestamp then covered = 1 end
    if ts ~= nil and not found and ts > timestamp then
      after = tonumber(string.match(entry[1], '^(%d+)')) - 1
      found = true
    end
    start = '(' .. entry[1]
  end
  if found and covered == 1 then break end
end
return {after, covered}
)lua";

}  // namespace kp::store::redis_scripts
