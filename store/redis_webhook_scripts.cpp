#include "store/redis_webhook_scripts.hpp"

namespace kp::store::redis_webhook_scripts {

std::string_view const create = R"lua(
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('DEL', KEYS[2])
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
return 1
)lua";

std::string_view const update_definition = R"lua(
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
)lua";

std::string_view const save_positions = R"lua(
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
if ARGV[2] == '1' and redis.call('GET', KEYS[3]) ~= ARGV[3] then return 0 end
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
return 1
)lua";

std::string_view const remove = R"lua(
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2], KEYS[3])
return removed
)lua";

std::string_view const hold_lease = R"lua(
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if holder then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
)lua";

std::string_view const release_lease = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

std::string_view const report_subscribers = R"lua(
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('DEL', KEYS[2])
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
if #ARGV > 2 then redis.call('PEXPIRE', KEYS[2], ttl) end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
return 1
)lua";

std::string_view const total_subscribers = R"lua(
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local nodes = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')
local sums = {}
for c = 2, #ARGV do sums[c - 1] = 0 end
local chunk = 256
for _, node in ipairs(nodes) do
  local key = ARGV[1] .. node
  for first = 2, #ARGV, chunk do
    local last = math.min(first + chunk - 1, #ARGV)
    local values = redis.call('HMGET', key, unpack(ARGV, first, last))
    for j, value in ipairs(values) do
      if value then sums[first - 2 + j] = sums[first - 2 + j] + tonumber(value) end
    end
  end
end
return sums
)lua";

}  // namespace kp::store::redis_webhook_scripts
