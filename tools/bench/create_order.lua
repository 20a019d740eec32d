-- wrk script: POST /api/v1/orders with a unique idempotency key and user per request,
-- two items. Non-201 answers are counted by wrk as errors ("Non-2xx or 3xx").
local thread_counter = 0

function setup(thread)
  thread:set("tid", thread_counter)
  thread_counter = thread_counter + 1
end

-- The optional first script argument names the wrk instance (`wrk … -s create_order.lua
-- -- 2`): parallel wrk processes started in the same second must not send the same keys.
-- The optional second one is a pause in ms before each request of a connection, to
-- offer a lighter load than the service can take (tools/bench.sh's half-load row).
local pause_ms = 0

function init(args)
  local instance = args[1] or "0"
  local n = tonumber(instance) or #instance
  pause_ms = tonumber(args[2] or "0")
  math.randomseed(os.time() * 1000 + n * 100 + tid)
  seq = 0
  run = tostring(os.time()) .. "-" .. instance .. "-" .. tostring(math.random(1, 1000000000))
  if pause_ms > 0 then
    delay = function() return pause_ms end
  end
end

local function uuid()
  return string.format("%08x-%04x-4%03x-%04x-%06x%06x",
    math.random(0, 0xffffffff), math.random(0, 0xffff), math.random(0, 0xfff),
    math.random(0x8000, 0xbfff), math.random(0, 0xffffff), math.random(0, 0xffffff))
end

request = function()
  seq = seq + 1
  local body = '{"user_id":"' .. uuid() .. '","currency":"EUR","total_amount":26.00,' ..
    '"items":[{"sku_id":"sku-' .. (seq % 50) .. '","quantity":2,"price":12.50},' ..
    '{"sku_id":"sku-gift","quantity":1,"price":1.00}]}'
  local headers = {
    ["Content-Type"] = "application/json",
    ["X-Idempotency-Key"] = "bench-" .. run .. "-" .. tid .. "-" .. seq,
  }
  return wrk.format("POST", "/api/v1/orders", headers, body)
end
